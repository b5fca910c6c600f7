"""Orders (money in through a checkout), payouts (money out to a bank account) and the
movements the gateway reported for them."""

from __future__ import annotations

from datetime import datetime
from typing import Any, ClassVar

from django.conf import settings
from django.core.validators import RegexValidator
from django.db import models
from django.db.models import F, Q
from django.utils.translation import gettext_lazy as _
from django_fsm import FSMField, transition

from tessera.core.models import BaseModel

# "<app>.<what>": the product that asked for the payment hears about it (hooks.register).
PURPOSE_PATTERN = r"^[a-z][a-z0-9_]*\.[a-z][a-z0-9_]*$"
purpose_validator = RegexValidator(PURPOSE_PATTERN, _("Use <app>.<what>, e.g. events.ticket."))


class OrderStatus(models.TextChoices):
    CREATED = "created", _("Created")
    PENDING = "pending", _("Pending")
    PAID = "paid", _("Paid")
    FAILED = "failed", _("Failed")
    CANCELLED = "cancelled", _("Cancelled")
    EXPIRED = "expired", _("Expired")
    REFUNDED = "refunded", _("Refunded")
    PARTIALLY_REFUNDED = "partially_refunded", _("Partially refunded")


OPEN_ORDER = [OrderStatus.CREATED, OrderStatus.PENDING]
CLOSED_UNPAID = [OrderStatus.FAILED, OrderStatus.CANCELLED, OrderStatus.EXPIRED]
REFUNDABLE = [OrderStatus.PAID, OrderStatus.PARTIALLY_REFUNDED]


class PayoutStatus(models.TextChoices):
    CREATED = "created", _("Created")
    PROCESSING = "processing", _("Processing")
    COMPLETED = "completed", _("Completed")
    FAILED = "failed", _("Failed")


OPEN_PAYOUT = [PayoutStatus.CREATED, PayoutStatus.PROCESSING]


class TransactionKind(models.TextChoices):
    PAYMENT = "payment", _("Payment")
    REFUND = "refund", _("Refund")
    CHARGEBACK = "chargeback", _("Chargeback")
    PAYOUT = "payout", _("Payout")


class TransactionStatus(models.TextChoices):
    PENDING = "pending", _("Pending")
    SUCCEEDED = "succeeded", _("Succeeded")
    FAILED = "failed", _("Failed")


class PaymentOrder(BaseModel):
    """One payment a person makes through the gateway's checkout for something a product
    sells (`purpose` + `reference` name it). The status moves only through the transitions
    below, each under a row lock in `services`; `paid` wins over an earlier failure (the money
    arrived), nothing leaves `paid` except a refund."""

    owner = models.ForeignKey(
        settings.AUTH_USER_MODEL,
        on_delete=models.PROTECT,
        related_name="payment_orders",
        verbose_name=_("owner"),
    )
    purpose = models.CharField(
        max_length=60, validators=[purpose_validator], verbose_name=_("purpose")
    )
    reference = models.CharField(max_length=100, verbose_name=_("reference"))
    idempotency_key = models.CharField(max_length=255, verbose_name=_("idempotency key"))
    amount_minor = models.BigIntegerField(verbose_name=_("amount (minor units)"))
    currency = models.CharField(max_length=3, verbose_name=_("currency"))
    description = models.CharField(
        max_length=200, blank=True, default="", verbose_name=_("description")
    )
    status = FSMField(
        default=OrderStatus.CREATED,
        choices=OrderStatus.choices,
        max_length=20,
        verbose_name=_("status"),
    )
    provider = models.CharField(max_length=20, verbose_name=_("provider"))
    provider_purchase_id = models.CharField(
        max_length=100, null=True, blank=True, verbose_name=_("provider purchase ID")
    )
    checkout_url = models.URLField(
        max_length=500, blank=True, default="", verbose_name=_("checkout URL")
    )
    success_url = models.URLField(
        max_length=500, blank=True, default="", verbose_name=_("success URL")
    )
    failure_url = models.URLField(
        max_length=500, blank=True, default="", verbose_name=_("failure URL")
    )
    refunded_minor = models.BigIntegerField(default=0, verbose_name=_("refunded (minor units)"))
    expires_at = models.DateTimeField(verbose_name=_("expires at"))
    paid_at = models.DateTimeField(null=True, blank=True, verbose_name=_("paid at"))
    closed_at = models.DateTimeField(null=True, blank=True, verbose_name=_("closed at"))
    failure_reason = models.CharField(
        max_length=200, blank=True, default="", verbose_name=_("failure reason")
    )

    class Meta:
        verbose_name = _("payment order")
        verbose_name_plural = _("payment orders")
        ordering = ("-created_at",)
        constraints: ClassVar[list[Any]] = [
            models.UniqueConstraint(
                fields=["purpose", "reference", "idempotency_key"],
                name="payments_order_idempotency",
            ),
            models.UniqueConstraint(
                fields=["provider", "provider_purchase_id"],
                condition=Q(provider_purchase_id__isnull=False),
                name="payments_order_provider_purchase",
            ),
            models.CheckConstraint(
                condition=Q(amount_minor__gt=0), name="payments_order_amount_positive"
            ),
            models.CheckConstraint(
                condition=Q(refunded_minor__gte=0) & Q(refunded_minor__lte=F("amount_minor")),
                name="payments_order_refund_within_amount",
            ),
            models.CheckConstraint(
                condition=Q(status__in=OrderStatus.values), name="payments_order_status_valid"
            ),
        ]
        indexes: ClassVar[list[Any]] = [
            models.Index(fields=["status", "created_at"], name="payments_order_open_idx"),
            models.Index(fields=["owner", "-created_at"], name="payments_order_owner_idx"),
            models.Index(fields=["purpose", "reference"], name="payments_order_ref_idx"),
        ]

    def __str__(self) -> str:
        return f"{self.purpose} {self.reference} ({self.status})"

    @transition(field=status, source=OrderStatus.CREATED, target=OrderStatus.PENDING)
    def open_checkout(self, *, purchase_id: str, checkout_url: str) -> None:
        self.provider_purchase_id = purchase_id
        self.checkout_url = checkout_url

    @transition(field=status, source=[*OPEN_ORDER, *CLOSED_UNPAID], target=OrderStatus.PAID)
    def pay(self, *, now: datetime) -> None:
        self.paid_at = now
        self.failure_reason = ""

    @transition(field=status, source=OPEN_ORDER, target=OrderStatus.FAILED)
    def fail(self, *, now: datetime, reason: str = "") -> None:
        self.closed_at = now
        self.failure_reason = reason[:200]

    @transition(field=status, source=OPEN_ORDER, target=OrderStatus.CANCELLED)
    def cancel(self, *, now: datetime, reason: str = "") -> None:
        self.closed_at = now
        self.failure_reason = reason[:200]

    @transition(field=status, source=OPEN_ORDER, target=OrderStatus.EXPIRED)
    def expire(self, *, now: datetime) -> None:
        self.closed_at = now

    @transition(field=status, source=REFUNDABLE, target=OrderStatus.PARTIALLY_REFUNDED)
    def refund_partially(self, *, amount_minor: int) -> None:
        self.refunded_minor += amount_minor

    @transition(field=status, source=REFUNDABLE, target=OrderStatus.REFUNDED)
    def refund_fully(self, *, amount_minor: int) -> None:
        self.refunded_minor += amount_minor


class Payout(BaseModel):
    """Money sent from the platform to someone's bank account through the gateway. Created
    before the gateway is asked (so a webhook that overtakes the answer finds it by our
    reference); the bank details are kept encrypted, and masked for display."""

    owner = models.ForeignKey(
        settings.AUTH_USER_MODEL,
        on_delete=models.PROTECT,
        related_name="payouts",
        verbose_name=_("owner"),
    )
    purpose = models.CharField(
        max_length=60, validators=[purpose_validator], verbose_name=_("purpose")
    )
    reference = models.CharField(max_length=100, verbose_name=_("reference"))
    idempotency_key = models.CharField(max_length=255, verbose_name=_("idempotency key"))
    amount_minor = models.BigIntegerField(verbose_name=_("amount (minor units)"))
    currency = models.CharField(max_length=3, verbose_name=_("currency"))
    description = models.CharField(
        max_length=200, blank=True, default="", verbose_name=_("description")
    )
    status = FSMField(
        default=PayoutStatus.CREATED,
        choices=PayoutStatus.choices,
        max_length=20,
        verbose_name=_("status"),
    )
    provider = models.CharField(max_length=20, verbose_name=_("provider"))
    provider_payout_id = models.CharField(
        max_length=100, null=True, blank=True, verbose_name=_("provider payout ID")
    )
    bank_details_encrypted = models.TextField(verbose_name=_("bank details encrypted"))
    bank_details_masked = models.JSONField(default=dict, verbose_name=_("bank details masked"))
    submitted_at = models.DateTimeField(null=True, blank=True, verbose_name=_("submitted at"))
    completed_at = models.DateTimeField(null=True, blank=True, verbose_name=_("completed at"))
    failed_at = models.DateTimeField(null=True, blank=True, verbose_name=_("failed at"))
    failure_reason = models.CharField(
        max_length=200, blank=True, default="", verbose_name=_("failure reason")
    )

    class Meta:
        verbose_name = _("payout")
        verbose_name_plural = _("payouts")
        ordering = ("-created_at",)
        constraints: ClassVar[list[Any]] = [
            models.UniqueConstraint(
                fields=["purpose", "reference", "idempotency_key"],
                name="payments_payout_idempotency",
            ),
            models.UniqueConstraint(
                fields=["provider", "provider_payout_id"],
                condition=Q(provider_payout_id__isnull=False),
                name="payments_payout_provider_id",
            ),
            models.CheckConstraint(
                condition=Q(amount_minor__gt=0), name="payments_payout_amount_positive"
            ),
            models.CheckConstraint(
                condition=Q(status__in=PayoutStatus.values), name="payments_payout_status_valid"
            ),
        ]
        indexes: ClassVar[list[Any]] = [
            models.Index(fields=["status", "created_at"], name="payments_payout_open_idx"),
            models.Index(fields=["owner", "-created_at"], name="payments_payout_owner_idx"),
            models.Index(fields=["purpose", "reference"], name="payments_payout_ref_idx"),
        ]

    def __str__(self) -> str:
        return f"{self.purpose} {self.reference} ({self.status})"

    @transition(field=status, source=PayoutStatus.CREATED, target=PayoutStatus.PROCESSING)
    def submit(self, *, provider_payout_id: str, now: datetime) -> None:
        self.provider_payout_id = provider_payout_id
        self.submitted_at = now

    @transition(field=status, source=OPEN_PAYOUT, target=PayoutStatus.COMPLETED)
    def complete(self, *, now: datetime) -> None:
        self.completed_at = now

    @transition(field=status, source=OPEN_PAYOUT, target=PayoutStatus.FAILED)
    def fail(self, *, now: datetime, reason: str = "") -> None:
        self.failed_at = now
        self.failure_reason = reason[:200]


class PaymentTransaction(BaseModel):
    """One movement of money the gateway reported: the payment of an order, a refund or a
    chargeback of it, or a payout. `provider_reference` (the gateway's id of the movement)
    is unique per provider and kind, so a movement reported twice is recorded once."""

    order = models.ForeignKey(
        PaymentOrder,
        null=True,
        blank=True,
        on_delete=models.PROTECT,
        related_name="transactions",
        verbose_name=_("order"),
    )
    payout = models.ForeignKey(
        Payout,
        null=True,
        blank=True,
        on_delete=models.PROTECT,
        related_name="transactions",
        verbose_name=_("payout"),
    )
    kind = models.CharField(max_length=20, choices=TransactionKind.choices, verbose_name=_("kind"))
    status = models.CharField(
        max_length=20,
        choices=TransactionStatus.choices,
        default=TransactionStatus.PENDING,
        verbose_name=_("status"),
    )
    amount_minor = models.BigIntegerField(verbose_name=_("amount (minor units)"))
    currency = models.CharField(max_length=3, verbose_name=_("currency"))
    provider = models.CharField(max_length=20, verbose_name=_("provider"))
    provider_reference = models.CharField(
        max_length=100, blank=True, default="", verbose_name=_("provider reference")
    )
    idempotency_key = models.CharField(
        max_length=255, blank=True, default="", verbose_name=_("idempotency key")
    )
    reason = models.CharField(max_length=200, blank=True, default="", verbose_name=_("reason"))
    delivery = models.ForeignKey(
        "payments.WebhookDelivery",
        null=True,
        blank=True,
        on_delete=models.SET_NULL,
        related_name="transactions",
        verbose_name=_("delivery"),
    )

    class Meta:
        verbose_name = _("payment transaction")
        verbose_name_plural = _("payment transactions")
        ordering = ("-created_at",)
        constraints: ClassVar[list[Any]] = [
            models.CheckConstraint(
                condition=(Q(order__isnull=False) & Q(payout__isnull=True))
                | (Q(order__isnull=True) & Q(payout__isnull=False)),
                name="payments_transaction_one_subject",
            ),
            models.CheckConstraint(
                condition=Q(amount_minor__gt=0), name="payments_transaction_amount_positive"
            ),
            models.CheckConstraint(
                condition=Q(kind__in=TransactionKind.values), name="payments_transaction_kind"
            ),
            models.CheckConstraint(
                condition=Q(status__in=TransactionStatus.values),
                name="payments_transaction_status",
            ),
            models.UniqueConstraint(
                fields=["provider", "kind", "provider_reference"],
                condition=~Q(provider_reference=""),
                name="payments_transaction_provider_ref",
            ),
            models.UniqueConstraint(
                fields=["order", "kind", "idempotency_key"],
                condition=~Q(idempotency_key=""),
                name="payments_transaction_idempotency",
            ),
        ]

    def __str__(self) -> str:
        return f"{self.kind} {self.amount_minor} {self.currency} ({self.status})"
