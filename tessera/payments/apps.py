from django.apps import AppConfig


class PaymentsConfig(AppConfig):
    default_auto_field = "django.db.models.BigAutoField"
    name = "tessera.payments"
    label = "payments"
    verbose_name = "Payments"

    def ready(self) -> None:
        from tessera.payments import metrics  # noqa: F401 - registers the collectors
