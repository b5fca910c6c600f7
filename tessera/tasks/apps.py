from django.apps import AppConfig


class TasksConfig(AppConfig):
    name = "tessera.tasks"
    label = "tasks"
    verbose_name = "Background tasks"

    def ready(self) -> None:
        from tessera.tasks import signals  # noqa: F401 - connects the Celery signal handlers
