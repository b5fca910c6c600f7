from django.apps import AppConfig


class EventsConfig(AppConfig):
    default_auto_field = "django.db.models.BigAutoField"
    name = "tessera.events"
    label = "events"
    verbose_name = "Events and attendance"

    def ready(self) -> None:
        from tessera.events import signals

        signals.connect()
