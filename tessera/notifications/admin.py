from __future__ import annotations

from typing import Any

from django.contrib import admin, messages
from django.db.models import QuerySet
from django.http import HttpRequest
from django.template.response import TemplateResponse
from django.utils.timesince import timesince
from django.utils.translation import gettext, ngettext
from django.utils.translation import gettext_lazy as _

from tessera.notifications.models import (
    Channel,
    Delivery,
    Notification,
    NotificationPreference,
    NotificationTemplate,
)
from tessera.notifications.selectors import delivery_backlog
from tessera.notifications.services import delivery_retry_failed


@admin.register(NotificationTemplate)
class NotificationTemplateAdmin(admin.ModelAdmin):
    list_display = ("key", "channel", "language", "subject", "updated_at")
    list_filter = ("channel", "language")
    search_fields = ("key",)
    ordering = ("key", "channel", "language")
    readonly_fields = ("id", "created_at", "updated_at")
    fields = ("key", "channel", "language", "subject", "body", "id", "created_at", "updated_at")


class ReadStateFilter(admin.SimpleListFilter):
    title = _("read state")
    parameter_name = "read"

    def lookups(self, request: HttpRequest, model_admin: Any) -> list[tuple[str, Any]]:
        return [("unread", _("Unread")), ("read", _("Read"))]

    def queryset(self, request: HttpRequest, queryset: QuerySet[Any]) -> QuerySet[Any]:
        if self.value() == "unread":
            return queryset.filter(read_at__isnull=True)
        if self.value() == "read":
            return queryset.filter(read_at__isnull=False)
        return queryset


@admin.register(Notification)
class NotificationAdmin(admin.ModelAdmin):
    list_display = ("created_at", "kind", "user", "title", "is_read")
    list_filter = ("kind", ReadStateFilter)
    search_fields = ("title", "user__email", "user__phone_number")
    list_select_related = ("user",)
    raw_id_fields = ("user",)
    readonly_fields = ("id", "created_at", "updated_at")
    date_hierarchy = "created_at"

    @admin.display(boolean=True, description=_("read"))
    def is_read(self, obj: Notification) -> bool:
        return obj.is_read


@admin.register(NotificationPreference)
class NotificationPreferenceAdmin(admin.ModelAdmin):
    list_display = ("user", "kind", "channel", "enabled", "updated_at")
    list_filter = ("channel", "enabled")
    search_fields = ("kind", "user__email", "user__phone_number")
    list_select_related = ("user",)
    raw_id_fields = ("user",)


@admin.register(Delivery)
class DeliveryAdmin(admin.ModelAdmin):
    """Read-only: deliveries are the record of what was sent. Failed ones can be retried."""

    list_display = ("created_at", "kind", "channel", "recipient", "status", "attempts", "sent_at")
    list_filter = ("status", "channel", "critical")
    search_fields = ("recipient", "provider_message_id", "kind")
    list_select_related = ("user",)
    date_hierarchy = "created_at"
    actions = ("retry_failed",)
    readonly_fields = tuple(field.name for field in Delivery._meta.fields)

    def has_add_permission(self, request: HttpRequest) -> bool:
        return False

    def has_change_permission(self, request: HttpRequest, obj: Any = None) -> bool:
        return False

    def changelist_view(
        self, request: HttpRequest, extra_context: dict[str, Any] | None = None
    ) -> TemplateResponse:
        """The title says what waits to be sent, per channel, and for how long."""
        parts = []
        for backlog in delivery_backlog():
            channel = Channel(backlog.queue.rsplit("_", 1)[-1]).label
            if backlog.oldest_at is None:
                parts.append(gettext("%(channel)s: none queued") % {"channel": channel})
            else:
                parts.append(
                    gettext("%(channel)s: %(count)s queued, the oldest for %(age)s")
                    % {
                        "channel": channel,
                        "count": backlog.items,
                        "age": timesince(backlog.oldest_at),
                    }
                )
        response = super().changelist_view(request, extra_context=extra_context)
        if hasattr(response, "context_data") and response.context_data is not None:
            response.context_data["title"] = gettext("Deliveries (%(backlog)s)") % {
                "backlog": "; ".join(parts)
            }
        return response  # type: ignore[return-value]

    def has_delete_permission(self, request: HttpRequest, obj: Any = None) -> bool:
        return False

    def has_retry_permission(self, request: HttpRequest) -> bool:
        return request.user.has_perm("notifications.change_delivery")

    @admin.action(description=_("Retry the selected failed deliveries"), permissions=["retry"])
    def retry_failed(self, request: HttpRequest, queryset: QuerySet[Delivery]) -> None:
        selected = list(queryset.values_list("pk", flat=True))
        retried = delivery_retry_failed(delivery_ids=selected)
        self.message_user(
            request,
            ngettext(
                "%(count)d delivery queued again.", "%(count)d deliveries queued again.", retried
            )
            % {"count": retried},
            messages.SUCCESS if retried else messages.WARNING,
        )
        if retried < len(selected):
            self.message_user(
                request,
                ngettext(
                    "%(count)d selected delivery was not failed and was left as it is.",
                    "%(count)d selected deliveries were not failed and were left as they are.",
                    len(selected) - retried,
                )
                % {"count": len(selected) - retried},
                messages.INFO,
            )
