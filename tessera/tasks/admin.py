from django.contrib import admin
from django.http import HttpRequest

from tessera.tasks.models import TaskRecord


@admin.register(TaskRecord)
class TaskRecordAdmin(admin.ModelAdmin):
    list_display = ("id", "name", "state", "owner", "retries", "created_at", "finished_at")
    list_filter = ("state", "name")
    search_fields = ("id", "name", "owner__email", "error")
    readonly_fields = [f.name for f in TaskRecord._meta.fields]
    date_hierarchy = "created_at"

    def has_add_permission(self, request: HttpRequest, obj: object = None) -> bool:
        return False
