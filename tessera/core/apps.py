from django.apps import AppConfig


class CoreConfig(AppConfig):
    name = "tessera.core"
    label = "core"
    verbose_name = "Core"

    def ready(self) -> None:
        from tessera.core import links  # noqa: F401 - registers its deployment check
