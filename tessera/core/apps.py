from django.apps import AppConfig
from django.conf import settings
from django.utils.translation import gettext_lazy as _


class CoreConfig(AppConfig):
    name = "tessera.core"
    label = "core"
    verbose_name = _("Core")

    def ready(self) -> None:
        # Every process (web, worker, beat) records task outcomes through Celery's signals;
        # a worker never loads the URLs that would import this module otherwise.
        from tessera.core import metrics  # noqa: F401

        if getattr(settings, "DATABASE_REPLICAS", None):
            from tessera.core import dbrouter

            dbrouter.install()
        from tessera.core import links  # noqa: F401 - registers its deployment check
