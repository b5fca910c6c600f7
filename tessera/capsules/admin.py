"""Capsules in the admin: filter by state and unlock date; bodies hidden until opened."""

from __future__ import annotations

from typing import Any

from django.contrib import admin
from django.http import HttpRequest
from django.template.response import TemplateResponse
from django.utils.timesince import timesince
from django.utils.translation import gettext
from django.utils.translation import gettext_lazy as _

from tessera.capsules.models import Capsule, CapsuleEvent, CapsuleState, Draft, Recipient
from tessera.capsules.selectors import capsule_state_counts, event_backlog


@admin.register(Capsule)
class CapsuleAdmin(admin.ModelAdmin):
    list_display = ("title", "sender", "receiver", "state", "scheduled_unlock_at", "created_at")
    list_filter = ("state", ("scheduled_unlock_at", admin.DateFieldListFilter))
    search_fields = ("title", "sender__email", "receiver__email", "receiver_email")
    date_hierarchy = "scheduled_unlock_at"
    raw_id_fields = ("sender", "receiver")
    exclude = ("body", "reply_body")
    readonly_fields = (
        "state",
        "body_if_opened",
        "sealed_at",
        "scheduled_unlock_at",
        "unfolds_at",
        "opened_at",
        "replied_at",
    )

    @admin.display(description=_("body"))
    def body_if_opened(self, obj: Capsule) -> str:
        if obj.state == CapsuleState.OPENED:
            return obj.body
        return str(_("(hidden until the receiver opens it)"))

    def changelist_view(
        self, request: HttpRequest, extra_context: dict[str, Any] | None = None
    ) -> TemplateResponse:
        extra_context = {**(extra_context or {}), "state_counts": capsule_state_counts()}
        response = super().changelist_view(request, extra_context=extra_context)
        counts = ", ".join(
            f"{CapsuleState(state).label}: {count}"
            for state, count in extra_context["state_counts"].items()
        )
        if hasattr(response, "context_data") and response.context_data is not None:
            response.context_data["title"] = _("Capsules (%(counts)s)") % {"counts": counts}
        return response  # type: ignore[return-value]


@admin.register(CapsuleEvent)
class CapsuleEventAdmin(admin.ModelAdmin):
    """The sweep's outbox; the title says how many receivers wait for their notification."""

    list_display = ("capsule", "kind", "created_at", "notified_at")
    list_filter = ("kind", ("notified_at", admin.EmptyFieldListFilter))
    raw_id_fields = ("capsule",)

    def changelist_view(
        self, request: HttpRequest, extra_context: dict[str, Any] | None = None
    ) -> TemplateResponse:
        backlog = event_backlog()
        response = super().changelist_view(request, extra_context=extra_context)
        if hasattr(response, "context_data") and response.context_data is not None:
            if backlog.oldest_at is None:
                waiting = gettext("every receiver notified")
            else:
                waiting = gettext("%(count)s waiting to be notified, the oldest for %(age)s") % {
                    "count": backlog.items,
                    "age": timesince(backlog.oldest_at),
                }
            response.context_data["title"] = gettext("Capsule events (%(waiting)s)") % {
                "waiting": waiting
            }
        return response  # type: ignore[return-value]


@admin.register(Draft)
class DraftAdmin(admin.ModelAdmin):
    list_display = ("title", "owner", "updated_at")
    raw_id_fields = ("owner", "recipient")
    exclude = ("body",)


@admin.register(Recipient)
class RecipientAdmin(admin.ModelAdmin):
    list_display = ("name", "owner", "email", "phone", "user")
    raw_id_fields = ("owner", "user")
