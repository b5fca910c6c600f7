from django.apps import AppConfig


class NotificationsConfig(AppConfig):
    name = "tessera.notifications"
    label = "notifications"
    verbose_name = "Notifications"
