from django.apps import AppConfig


class ContentConfig(AppConfig):
    name = "tessera.content"
    label = "content"
    verbose_name = "Website content"

    def ready(self) -> None:
        from tessera.content import signals

        signals.connect()
