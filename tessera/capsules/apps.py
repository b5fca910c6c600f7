from django.apps import AppConfig
from django.utils.translation import gettext_lazy as _


class CapsulesConfig(AppConfig):
    default_auto_field = "django.db.models.BigAutoField"
    name = "tessera.capsules"
    label = "capsules"
    verbose_name = _("Time capsules")

    def ready(self) -> None:
        from tessera.capsules import metrics, signals
        from tessera.capsules.export import account_export
        from tessera.capsules.selectors import event_backlog
        from tessera.core.exports import export_contributor_register
        from tessera.core.metrics import backlog_register

        signals.connect()
        metrics.register()
        export_contributor_register("capsules", account_export)
        backlog_register("capsules.events", lambda: [event_backlog()])
