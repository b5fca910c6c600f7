from django.apps import AppConfig


class CapsulesConfig(AppConfig):
    default_auto_field = "django.db.models.BigAutoField"
    name = "tessera.capsules"
    label = "capsules"
    verbose_name = "Time capsules"

    def ready(self) -> None:
        from tessera.capsules import signals
        from tessera.capsules.selectors import event_backlog
        from tessera.core.metrics import backlog_register

        signals.connect()
        backlog_register("capsules.events", lambda: [event_backlog()])
