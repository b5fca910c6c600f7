from django.contrib import admin
from django.http import HttpRequest

from tessera.core.models import IdempotencyRecord


@admin.register(IdempotencyRecord)
class IdempotencyRecordAdmin(admin.ModelAdmin):
    list_display = (
        "key",
        "caller",
        "route",
        "state",
        "response_status",
        "created_at",
        "expires_at",
    )
    list_filter = ("state", "response_status")
    search_fields = ("key", "caller", "route")
    date_hierarchy = "created_at"
    exclude = ("response_body",)

    def has_add_permission(self, request: HttpRequest) -> bool:
        return False

    def has_change_permission(self, request: HttpRequest, obj: object = None) -> bool:
        return False
