"""Payments in the admin: everything read-only (money records change only through the
services); dead-lettered webhook deliveries can be replayed by staff with the permission."""

from __future__ import annotations

from typing import Any

from django.contrib import admin, messages
from django.db.models import QuerySet
from django.http import HttpRequest
from django.utils.html import format_html
from django.utils.translation import gettext_lazy as _
from django.utils.translation import ngettext

from tessera.core.money import amount_format
from tessera.payments import services
from tessera.payments.models import (
    DeliveryState,
    PaymentOrder,
    PaymentTransaction,
    Payout,
    SandboxPayout,
    SandboxPurchase,
    SandboxWebhook,
    WebhookDelivery,
)


class ReadOnlyAdmin(admin.ModelAdmin):
    def has_add_permission(self, request: HttpRequest, obj: Any = None) -> bool:
        return False

    def has_change_permission(self, request: HttpRequest, obj: Any = None) -> bool:
        return False

    def has_delete_permission(self, request: HttpRequest, obj: Any = None) -> bool:
        return False


class TransactionInline(admin.TabularInline):
    model = PaymentTransaction
    fields = ("created_at", "kind", "status", "amount_minor", "currency", "provider_reference")
    readonly_fields = fields
    extra = 0
    can_delete = False
    show_change_link = True

    def has_add_permission(self, request: HttpRequest, obj: Any = None) -> bool:
        return False


@admin.display(description=_("amount"))
def _amount(obj: Any) -> str:
    return f"{amount_format(obj.amount_minor, obj.currency)} {obj.currency}"


@admin.register(PaymentOrder)
class PaymentOrderAdmin(ReadOnlyAdmin):
    list_display = (
        "id",
        "purpose",
        "reference",
        "owner",
        _amount,
        "status",
        "provider",
        "created_at",
    )
    list_filter = ("status", "provider", "purpose", "created_at")
    search_fields = ("id", "reference", "provider_purchase_id", "owner__email")
    date_hierarchy = "created_at"
    list_select_related = ("owner",)
    inlines = (TransactionInline,)


@admin.register(Payout)
class PayoutAdmin(ReadOnlyAdmin):
    list_display = (
        "id",
        "purpose",
        "reference",
        "owner",
        _amount,
        "status",
        "provider",
        "created_at",
    )
    list_filter = ("status", "provider", "purpose", "created_at")
    search_fields = ("id", "reference", "provider_payout_id", "owner__email")
    date_hierarchy = "created_at"
    list_select_related = ("owner",)
    exclude = ("bank_details_encrypted",)
    inlines = (TransactionInline,)


@admin.register(PaymentTransaction)
class PaymentTransactionAdmin(ReadOnlyAdmin):
    list_display = ("created_at", "kind", "status", _amount, "provider", "provider_reference")
    list_filter = ("kind", "status", "provider", "created_at")
    search_fields = ("id", "provider_reference", "order__id", "payout__id")
    date_hierarchy = "created_at"


@admin.register(WebhookDelivery)
class WebhookDeliveryAdmin(ReadOnlyAdmin):
    list_display = (
        "created_at",
        "provider",
        "event_type",
        "signature_verdict",
        "state",
        "attempts",
        "outcome",
    )
    list_filter = ("state", "provider", "signature_verdict", "event_type", "created_at")
    search_fields = ("id", "event_id", "body_sha256", "outcome", "last_error")
    date_hierarchy = "created_at"
    exclude = ("body",)
    readonly_fields = ("body_text",)
    actions = ("replay",)

    @admin.display(description=_("body"))
    def body_text(self, obj: WebhookDelivery) -> str:
        return format_html("<pre>{}</pre>", bytes(obj.body).decode("utf-8", "replace"))

    @admin.action(
        description=_("Replay the selected dead-lettered deliveries"),
        permissions=["replay"],
    )
    def replay(self, request: HttpRequest, queryset: QuerySet[WebhookDelivery]) -> None:
        ids = list(queryset.filter(state=DeliveryState.FAILED).values_list("pk", flat=True))
        replayed = services.webhook_replay(delivery_ids=ids, actor=request.user)
        skipped = queryset.count() - replayed
        self.message_user(
            request,
            ngettext(
                "%(count)d delivery sent to processing again.",
                "%(count)d deliveries sent to processing again.",
                replayed,
            )
            % {"count": replayed},
        )
        if skipped:
            self.message_user(
                request,
                ngettext(
                    "%(count)d was not a dead letter and was left as it is.",
                    "%(count)d were not dead letters and were left as they are.",
                    skipped,
                )
                % {"count": skipped},
                level=messages.WARNING,
            )

    def has_replay_permission(self, request: HttpRequest) -> bool:
        return bool(request.user.has_perm("payments.replay_webhookdelivery"))


@admin.register(SandboxPurchase)
class SandboxPurchaseAdmin(ReadOnlyAdmin):
    list_display = ("id", "reference", _amount, "status", "created_at")
    list_filter = ("status", "created_at")
    search_fields = ("id", "reference")


@admin.register(SandboxPayout)
class SandboxPayoutAdmin(ReadOnlyAdmin):
    list_display = ("id", "reference", _amount, "status", "settle_at", "settled_at")
    list_filter = ("status",)
    search_fields = ("id", "reference")


@admin.register(SandboxWebhook)
class SandboxWebhookAdmin(ReadOnlyAdmin):
    list_display = (
        "created_at",
        "event_type",
        "object_id",
        "attempts",
        "last_status",
        "delivered_at",
    )
    list_filter = ("event_type", "gave_up")
    search_fields = ("object_id",)
    exclude = ("body",)
