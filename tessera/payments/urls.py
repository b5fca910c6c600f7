from django.urls import path

from tessera.payments import views

urlpatterns = [
    path("webhooks/<slug:provider>", views.webhook_receive, name="payments-webhook"),
    path(
        "sandbox/checkout/<str:purchase_id>",
        views.sandbox_checkout,
        name="payments-sandbox-checkout",
    ),
]
