from django.apps import AppConfig


class NotificationsConfig(AppConfig):
    name = "tessera.notifications"
    label = "notifications"
    verbose_name = "Notifications"

    def ready(self) -> None:
        from tessera.core.metrics import backlog_register
        from tessera.notifications.selectors import delivery_backlog

        backlog_register("notifications.deliveries", delivery_backlog)
