from django.apps import AppConfig
from django.utils.translation import gettext_lazy as _


class NotificationsConfig(AppConfig):
    name = "tessera.notifications"
    label = "notifications"
    verbose_name = _("Notifications")

    def ready(self) -> None:
        from tessera.core.exports import export_contributor_register
        from tessera.notifications.export import account_export

        export_contributor_register("notifications", account_export)
