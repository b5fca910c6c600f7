from django.contrib import admin
from django.http import HttpRequest

from tessera.audit.models import AuditLog, AuditLogSummary


class ReadOnlyAdmin(admin.ModelAdmin):
    def has_add_permission(self, request: HttpRequest) -> bool:
        return False

    def has_change_permission(self, request: HttpRequest, obj: object = None) -> bool:
        return False

    def has_delete_permission(self, request: HttpRequest, obj: object = None) -> bool:
        return False


@admin.register(AuditLog)
class AuditLogAdmin(ReadOnlyAdmin):
    list_display = (
        "created_at",
        "action",
        "actor",
        "target_type",
        "target_id",
        "ip_address",
        "request_id",
    )
    list_filter = ("action", "target_type", "created_at")
    search_fields = (
        "action",
        "target_id",
        "actor__email",
        "actor__phone_number",
        "ip_address",
        "request_id",
    )
    date_hierarchy = "created_at"
    list_select_related = ("actor",)


@admin.register(AuditLogSummary)
class AuditLogSummaryAdmin(ReadOnlyAdmin):
    list_display = ("day", "action", "count", "updated_at")
    list_filter = ("action",)
    date_hierarchy = "day"
