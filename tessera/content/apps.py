from django.apps import AppConfig
from django.utils.translation import gettext_lazy as _


class ContentConfig(AppConfig):
    name = "tessera.content"
    label = "content"
    verbose_name = _("Website content")

    def ready(self) -> None:
        from tessera.content import signals

        signals.connect()
