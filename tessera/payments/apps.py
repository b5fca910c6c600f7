from django.apps import AppConfig
from django.utils.translation import gettext_lazy as _


class PaymentsConfig(AppConfig):
    default_auto_field = "django.db.models.BigAutoField"
    name = "tessera.payments"
    label = "payments"
    verbose_name = _("Payments")

    def ready(self) -> None:
        from tessera.payments import metrics  # noqa: F401 - registers the collectors
