from django.contrib import admin
from django.http import HttpRequest
from django.utils.translation import gettext_lazy as _
from django_celery_beat.admin import PeriodicTaskAdmin
from django_celery_beat.models import CrontabSchedule, PeriodicTask

from tessera.core.models import IdempotencyRecord

# django-celery-beat's admin names three columns after a method or a property ("Crontab
# translation", "Human readable", "Scheduler"), which no catalogue can translate: give them
# names one can (the Arabic admin shows every label in Arabic, tests/test_admin_arabic.py).
admin.display(description=_("schedule in words"))(PeriodicTaskAdmin.crontab_translation)
admin.display(description=_("schedule in words"))(CrontabSchedule.human_readable.fget)
admin.display(description=_("schedule"))(PeriodicTask.scheduler.fget)
# …and one field label written without gettext (verbose_name='Task Name'). The label only:
# migrations read the field's own argument, not this attribute.
PeriodicTask._meta.get_field("task").verbose_name = _("Task Name")


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
