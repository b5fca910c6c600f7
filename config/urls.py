from django.contrib import admin
from django.urls import include, path

from config.api import api
from tessera.core import views as core_views
from tessera.core.metrics import metrics_view

urlpatterns = [
    path("", core_views.root, name="root"),
    path("health/", core_views.health_live, name="health-live"),
    path("health/ready", core_views.health_ready, name="health-ready"),
    path("metrics", metrics_view, name="metrics"),
    path("admin/", admin.site.urls),
    path("api/", api.urls),
    path("", include("tessera.files.urls")),
    path("", include("tessera.payments.urls")),
]

handler404 = "tessera.core.views.not_found"
handler500 = "tessera.core.views.server_error"
