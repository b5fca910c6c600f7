from django.apps import AppConfig
from django.utils.translation import gettext_lazy as _


class EventsConfig(AppConfig):
    default_auto_field = "django.db.models.BigAutoField"
    name = "tessera.events"
    label = "events"
    verbose_name = _("Events and attendance")

    def ready(self) -> None:
        from tessera.core.exports import export_contributor_register
        from tessera.events import signals
        from tessera.events.export import account_export
        from tessera.events.services.payments import PURPOSE, TicketPayments
        from tessera.payments.hooks import register

        signals.connect()
        register(PURPOSE, TicketPayments())
        export_contributor_register("events", account_export)
