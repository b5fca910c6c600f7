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

    idempotency_key = models.CharField(max_length=255, unique=True)
    reference = models.CharField(max_length=100)
    amount_minor = models.BigIntegerField()
    currency = models.CharField(max_length=3)
    description = models.CharField(max_length=200, blank=True, default="")
    client_email = models.CharField(max_length=254, blank=True, default="")
    language = models.CharField(max_length=8, blank=True, default="en")
    status = models.CharField(
        max_length=20, choices=SandboxPurchaseStatus.choices, default=SandboxPurchaseStatus.CREATED
    )
    refunded_minor = models.BigIntegerField(default=0)
    refunds = models.JSONField(default=list, blank=True)
    status_history = models.JSONField(default=list, blank=True)
    success_redirect = models.URLField(max_length=500, blank=True, default="")
    failure_redirect = models.URLField(max_length=500, blank=True, default="")
    callback_url = models.URLField(max_length=500, blank=True, default="")
    due = models.DateTimeField()

    class Meta:
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

    idempotency_key = models.CharField(max_length=255, unique=True)
    reference = models.CharField(max_length=100)
    amount_minor = models.BigIntegerField()
    currency = models.CharField(max_length=3)
    account_masked = models.CharField(max_length=40, blank=True, default="")
    will_fail = models.BooleanField(default=False)
    status = models.CharField(
        max_length=10, choices=SandboxPayoutStatus.choices, default=SandboxPayoutStatus.PENDING
    )
    error = models.CharField(max_length=200, blank=True, default="")
    callback_url = models.URLField(max_length=500, blank=True, default="")
    settle_at = models.DateTimeField()
    settled_at = models.DateTimeField(null=True, blank=True)

    class Meta:
        ordering = ("-created_at",)
        indexes: ClassVar[list[Any]] = [
            models.Index(fields=["status", "settle_at"], name="payments_sandbox_payout_due"),
        ]

    def __str__(self) -> str:
        return f"sandbox payout {self.pk} ({self.status})"


class SandboxWebhook(BaseModel):
    """One webhook the sandbox sends: its body is fixed when the event happens, so every
    retry sends the same bytes with the same signature, as a real gateway does."""

    url = models.URLField(max_length=500)
    event_type = models.CharField(max_length=100)
    object_id = models.CharField(max_length=100)
    body = models.BinaryField()
    signature = models.TextField()
    attempts = models.PositiveIntegerField(default=0)
    next_attempt_at = models.DateTimeField(null=True, blank=True)
    delivered_at = models.DateTimeField(null=True, blank=True)
    last_status = models.PositiveSmallIntegerField(null=True, blank=True)
    last_error = models.CharField(max_length=300, blank=True, default="")
    gave_up = models.BooleanField(default=False)

    class Meta:
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
