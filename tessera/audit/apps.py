from django.apps import AppConfig


class AuditConfig(AppConfig):
    name = "tessera.audit"
    label = "audit"
    verbose_name = "Audit"

    def ready(self) -> None:
        from tessera.audit.export import account_export
        from tessera.core.exports import export_contributor_register

        export_contributor_register("audit", account_export)
