from django.apps import AppConfig
from django.utils.translation import gettext_lazy as _


class NotificationsConfig(AppConfig):
    name = "tessera.notifications"
    label = "notifications"
    verbose_name = _("Notifications")

    def ready(self) -> None:
        from tessera.core.exports import export_contributor_register
        from tessera.core.metrics import backlog_register
        from tessera.notifications.export import account_export
        from tessera.notifications.selectors import delivery_backlog

        export_contributor_register("notifications", account_export)
        backlog_register("notifications.deliveries", delivery_backlog)
