from django.apps import AppConfig
from django.utils.translation import gettext_lazy as _


class AuditConfig(AppConfig):
    name = "tessera.audit"
    label = "audit"
    verbose_name = _("Audit")

    def ready(self) -> None:
        from tessera.audit.export import account_export
        from tessera.core.exports import export_contributor_register

        export_contributor_register("audit", account_export)
