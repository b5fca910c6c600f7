from django.apps import AppConfig


class CapsulesConfig(AppConfig):
    default_auto_field = "django.db.models.BigAutoField"
    name = "tessera.capsules"
    label = "capsules"
    verbose_name = "Time capsules"

    def ready(self) -> None:
        from tessera.capsules import metrics, signals

        signals.connect()
        metrics.register()
