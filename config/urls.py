from django.contrib import admin
from django.urls import include, path

from config.api import api
from tessera.accounts import pages as account_pages
from tessera.capsules import pages as capsule_pages
from tessera.core import views as core_views
from tessera.core.metrics import metrics_view

urlpatterns = [
    # First: the webhook intake is the busiest route outside /api/, and Django tries the
    # patterns in turn (no other pattern overlaps `webhooks/` or `sandbox/`).
    path("", include("tessera.payments.urls")),
    path("", core_views.root, name="root"),
    path("health/", core_views.health_live, name="health-live"),
    path("health/ready", core_views.health_ready, name="health-ready"),
    path("metrics", metrics_view, name="metrics"),
    path("admin/", admin.site.urls),
    path("api/", api.urls),
    # The pages links in emails open (until a web app takes them over): tessera/core/pages.py.
    path("verify-email", account_pages.verify_email, name="verify-email"),
    path("reset-password", account_pages.reset_password, name="reset-password"),
    path("confirm-email-change", account_pages.confirm_email_change, name="confirm-email-change"),
    path("invitation", capsule_pages.invitation, name="capsule-invitation"),
    path("", include("tessera.files.urls")),
]

handler404 = "tessera.core.views.not_found"
handler500 = "tessera.core.views.server_error"
