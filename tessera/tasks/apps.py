from django.apps import AppConfig
from django.utils.translation import gettext_lazy as _


class TasksConfig(AppConfig):
    name = "tessera.tasks"
    label = "tasks"
    verbose_name = _("Background tasks")

    def ready(self) -> None:
        from tessera.tasks import signals  # noqa: F401 - connects the Celery signal handlers
