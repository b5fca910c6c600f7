"""The sandbox gateway's own records: what a real gateway would hold on its side."""

from __future__ import annotations

from typing import Any, ClassVar

from django.db import models
from django.db.models import Q
from django.utils.translation import gettext_lazy as _

from tessera.core.models import BaseModel


class SandboxPurchaseStatus(models.TextChoices):
    CREATED = "created", _("Created")
    PAID = "paid", _("Paid")
    ERROR = "error", _("Payment failed")
    CANCELLED = "cancelled", _("Cancelled")
    EXPIRED = "expired", _("Expired")
    REFUNDED = "refunded", _("Refunded")
    PARTIALLY_REFUNDED = "partially_refunded", _("Partially refunded")


class SandboxPayoutStatus(models.TextChoices):
    PENDING = "pending", _("Pending")
    SUCCESS = "success", _("Success")
    FAILED = "failed", _("Failed")


class SandboxPurchase(BaseModel):
    """A checkout the sandbox serves at /sandbox/checkout/<id>."""

    idempotency_key = models.CharField(
        max_length=255, unique=True, verbose_name=_("idempotency key")
    )
    reference = models.CharField(max_length=100, verbose_name=_("reference"))
    amount_minor = models.BigIntegerField(verbose_name=_("amount (minor units)"))
    currency = models.CharField(max_length=3, verbose_name=_("currency"))
    description = models.CharField(
        max_length=200, blank=True, default="", verbose_name=_("description")
    )
    client_email = models.CharField(
        max_length=254, blank=True, default="", verbose_name=_("client email")
    )
    language = models.CharField(max_length=8, blank=True, default="en", verbose_name=_("language"))
    status = models.CharField(
        max_length=20,
        choices=SandboxPurchaseStatus.choices,
        default=SandboxPurchaseStatus.CREATED,
        verbose_name=_("status"),
    )
    refunded_minor = models.BigIntegerField(default=0, verbose_name=_("refunded (minor units)"))
    refunds = models.JSONField(default=list, blank=True, verbose_name=_("refunds"))
    status_history = models.JSONField(default=list, blank=True, verbose_name=_("status history"))
    success_redirect = models.URLField(
        max_length=500, blank=True, default="", verbose_name=_("success redirect")
    )
    failure_redirect = models.URLField(
        max_length=500, blank=True, default="", verbose_name=_("failure redirect")
    )
    callback_url = models.URLField(
        max_length=500, blank=True, default="", verbose_name=_("callback URL")
    )
    due = models.DateTimeField(verbose_name=_("due"))

    class Meta:
        verbose_name = _("sandbox purchase")
        verbose_name_plural = _("sandbox purchases")
        ordering = ("-created_at",)
        constraints: ClassVar[list[Any]] = [
            models.CheckConstraint(
                condition=Q(amount_minor__gt=0), name="payments_sandbox_purchase_amount"
            ),
        ]

    def __str__(self) -> str:
        return f"sandbox purchase {self.pk} ({self.status})"


class SandboxPayout(BaseModel):
    """A payout the sandbox settles after `PAYMENTS_SANDBOX_PAYOUT_DELAY_SECONDS`."""

    idempotency_key = models.CharField(
        max_length=255, unique=True, verbose_name=_("idempotency key")
    )
    reference = models.CharField(max_length=100, verbose_name=_("reference"))
    amount_minor = models.BigIntegerField(verbose_name=_("amount (minor units)"))
    currency = models.CharField(max_length=3, verbose_name=_("currency"))
    account_masked = models.CharField(
        max_length=40, blank=True, default="", verbose_name=_("account masked")
    )
    will_fail = models.BooleanField(default=False, verbose_name=_("will fail"))
    status = models.CharField(
        max_length=10,
        choices=SandboxPayoutStatus.choices,
        default=SandboxPayoutStatus.PENDING,
        verbose_name=_("status"),
    )
    error = models.CharField(max_length=200, blank=True, default="", verbose_name=_("error"))
    callback_url = models.URLField(
        max_length=500, blank=True, default="", verbose_name=_("callback URL")
    )
    settle_at = models.DateTimeField(verbose_name=_("settle at"))
    settled_at = models.DateTimeField(null=True, blank=True, verbose_name=_("settled at"))

    class Meta:
        verbose_name = _("sandbox payout")
        verbose_name_plural = _("sandbox payouts")
        ordering = ("-created_at",)
        indexes: ClassVar[list[Any]] = [
            models.Index(fields=["status", "settle_at"], name="payments_sandbox_payout_due"),
        ]

    def __str__(self) -> str:
        return f"sandbox payout {self.pk} ({self.status})"


class SandboxWebhook(BaseModel):
    """One webhook the sandbox sends: its body is fixed when the event happens, so every
    retry sends the same bytes with the same signature, as a real gateway does."""

    url = models.URLField(max_length=500, verbose_name=_("URL"))
    event_type = models.CharField(max_length=100, verbose_name=_("event type"))
    object_id = models.CharField(max_length=100, verbose_name=_("object ID"))
    body = models.BinaryField(verbose_name=_("body"))
    signature = models.TextField(verbose_name=_("signature"))
    attempts = models.PositiveIntegerField(default=0, verbose_name=_("attempts"))
    next_attempt_at = models.DateTimeField(null=True, blank=True, verbose_name=_("next attempt at"))
    delivered_at = models.DateTimeField(null=True, blank=True, verbose_name=_("delivered at"))
    last_status = models.PositiveSmallIntegerField(
        null=True, blank=True, verbose_name=_("last status")
    )
    last_error = models.CharField(
        max_length=300, blank=True, default="", verbose_name=_("last error")
    )
    gave_up = models.BooleanField(default=False, verbose_name=_("gave up"))

    class Meta:
        verbose_name = _("sandbox webhook")
        verbose_name_plural = _("sandbox webhooks")
        ordering = ("-created_at",)
        indexes: ClassVar[list[Any]] = [
            models.Index(
                fields=["next_attempt_at"],
                name="payments_sandbox_webhook_todo",
                condition=Q(delivered_at__isnull=True, gave_up=False),
            ),
        ]

    def __str__(self) -> str:
        return f"{self.event_type} {self.object_id}"
