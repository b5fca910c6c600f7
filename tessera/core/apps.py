from django.apps import AppConfig
from django.conf import settings


class CoreConfig(AppConfig):
    name = "tessera.core"
    label = "core"
    verbose_name = "Core"

    def ready(self) -> None:
        if getattr(settings, "DATABASE_REPLICAS", None):
            from tessera.core import dbrouter

            dbrouter.install()
