"""The wallet: a double-entry ledger and the transactions people see.

Ledger: accounts (one wallet per user and currency, and the platform's own accounts),
transfers, and entries whose amounts sum to zero per currency within each transfer. A
wallet's balance is a column kept equal to the sum of its entries, updated in the same
transaction, never negative (a check constraint). The platform's accounts carry no balance
column: every deposit and payout touches them, and a balance row there would serialise every
wallet's money movements on one lock; their balance is the sum of their entries.

On PostgreSQL a deferred constraint trigger (migration 0002) refuses any transfer that does
not sum to zero per currency at commit, and entries and transfers are append-only; on SQLite
the service checks the sums in the same transaction.
"""

from __future__ import annotations

from datetime import datetime
from typing import Any, ClassVar

from django.conf import settings
from django.db import models
from django.db.models import F, Q
from django.utils.translation import gettext_lazy as _
from django_fsm import FSMField, transition

from tessera.core.models import BaseModel


class AccountKind(models.TextChoices):
    USER_WALLET = "user_wallet", _("User wallet")
    GATEWAY_CLEARING = "gateway_clearing", _("Gateway clearing")
    PAYOUTS_IN_FLIGHT = "payouts_in_flight", _("Payouts in flight")
    FEES = "fees", _("Fees")
    ADJUSTMENTS = "adjustments", _("Adjustments")


SYSTEM_KINDS = [kind for kind in AccountKind.values if kind != AccountKind.USER_WALLET]


class LedgerAccount(models.Model):
    id = models.BigAutoField(primary_key=True, verbose_name=_("ID"))
    kind = models.CharField(max_length=20, choices=AccountKind.choices, verbose_name=_("kind"))
    owner = models.ForeignKey(
        settings.AUTH_USER_MODEL,
        null=True,
        blank=True,
        on_delete=models.PROTECT,
        related_name="wallet_accounts",
        verbose_name=_("owner"),
    )
    currency = models.CharField(max_length=3, verbose_name=_("currency"))
    # Kept for user wallets only (see the module docstring).
    balance_minor = models.BigIntegerField(
        null=True, blank=True, verbose_name=_("balance (minor units)")
    )
    created_at = models.DateTimeField(auto_now_add=True, verbose_name=_("created at"))

    class Meta:
        verbose_name = _("ledger account")
        verbose_name_plural = _("ledger accounts")
        ordering = ("id",)
        constraints: ClassVar[list[Any]] = [
            models.CheckConstraint(
                condition=Q(kind__in=AccountKind.values), name="wallet_account_kind_valid"
            ),
            models.CheckConstraint(
                condition=(
                    Q(kind=AccountKind.USER_WALLET)
                    & Q(owner__isnull=False)
                    & Q(balance_minor__isnull=False)
                )
                | (
                    ~Q(kind=AccountKind.USER_WALLET)
                    & Q(owner__isnull=True)
                    & Q(balance_minor__isnull=True)
                ),
                name="wallet_account_owner_iff_wallet",
            ),
            models.CheckConstraint(
                condition=Q(balance_minor__isnull=True) | Q(balance_minor__gte=0),
                name="wallet_balance_never_negative",
            ),
            models.UniqueConstraint(
                fields=["owner", "currency"],
                condition=Q(kind=AccountKind.USER_WALLET),
                name="wallet_one_wallet_per_currency",
            ),
            models.UniqueConstraint(
                fields=["kind", "currency"],
                condition=Q(owner__isnull=True),
                name="wallet_one_system_account_per_currency",
            ),
        ]

    def __str__(self) -> str:
        who = f"user {self.owner_id}" if self.owner_id else "platform"
        return f"{self.get_kind_display()} {self.currency} ({who})"


class TransferKind(models.TextChoices):
    DEPOSIT = "deposit", _("Deposit")
    WITHDRAWAL_RESERVE = "withdrawal_reserve", _("Withdrawal reserved")
    WITHDRAWAL_COMPLETE = "withdrawal_complete", _("Withdrawal paid out")
    WITHDRAWAL_RETURN = "withdrawal_return", _("Withdrawal returned")
    REFUND = "refund", _("Deposit refunded")
    CHARGEBACK = "chargeback", _("Deposit charged back")
    ADJUSTMENT = "adjustment", _("Manual adjustment")


class LedgerTransfer(BaseModel):
    """One movement of money: its entries sum to zero per currency. `reference` is unique,
    so a transfer posted for the same cause twice is posted once."""

    kind = models.CharField(max_length=24, choices=TransferKind.choices, verbose_name=_("kind"))
    reference = models.CharField(max_length=200, unique=True, verbose_name=_("reference"))
    description = models.CharField(
        max_length=500, blank=True, default="", verbose_name=_("description")
    )
    created_by = models.ForeignKey(
        settings.AUTH_USER_MODEL,
        null=True,
        blank=True,
        on_delete=models.PROTECT,
        related_name="+",
        verbose_name=_("created by"),
    )

    class Meta:
        verbose_name = _("ledger transfer")
        verbose_name_plural = _("ledger transfers")
        ordering = ("-created_at",)
        constraints: ClassVar[list[Any]] = [
            models.CheckConstraint(
                condition=Q(kind__in=TransferKind.values), name="wallet_transfer_kind_valid"
            ),
        ]

    def __str__(self) -> str:
        return self.reference


class LedgerEntry(models.Model):
    id = models.BigAutoField(primary_key=True, verbose_name=_("ID"))
    transfer = models.ForeignKey(
        LedgerTransfer, on_delete=models.PROTECT, related_name="entries", verbose_name=_("transfer")
    )
    account = models.ForeignKey(
        LedgerAccount, on_delete=models.PROTECT, related_name="entries", verbose_name=_("account")
    )
    amount_minor = models.BigIntegerField(verbose_name=_("amount (minor units)"))
    currency = models.CharField(max_length=3, verbose_name=_("currency"))
    created_at = models.DateTimeField(auto_now_add=True, verbose_name=_("created at"))

    class Meta:
        verbose_name = _("ledger entry")
        verbose_name_plural = _("ledger entries")
        ordering = ("id",)
        constraints: ClassVar[list[Any]] = [
            models.CheckConstraint(
                condition=~Q(amount_minor=0), name="wallet_entry_amount_not_zero"
            ),
        ]
        indexes: ClassVar[list[Any]] = [
            models.Index(fields=["account", "id"], name="wallet_entry_account_idx"),
        ]

    def __str__(self) -> str:
        return f"{self.amount_minor} {self.currency} → account {self.account_id}"


class TransactionKind(models.TextChoices):
    DEPOSIT = "deposit", _("Deposit")
    WITHDRAWAL = "withdrawal", _("Withdrawal")
    REFUND = "refund", _("Refund")
    CHARGEBACK = "chargeback", _("Chargeback")
    ADJUSTMENT = "adjustment", _("Adjustment")


class Direction(models.TextChoices):
    CREDIT = "credit", _("Credit")
    DEBIT = "debit", _("Debit")


class TransactionStatus(models.TextChoices):
    PENDING = "pending", _("Pending")
    PROCESSING = "processing", _("Processing")
    COMPLETED = "completed", _("Completed")
    FAILED = "failed", _("Failed")
    EXPIRED = "expired", _("Expired")
    CANCELLED = "cancelled", _("Cancelled")


CLOSED_UNPAID = [TransactionStatus.FAILED, TransactionStatus.EXPIRED, TransactionStatus.CANCELLED]


def _is_deposit(tx: Any) -> bool:
    return bool(tx.kind == TransactionKind.DEPOSIT)


def _is_withdrawal(tx: Any) -> bool:
    return bool(tx.kind == TransactionKind.WITHDRAWAL)


class WalletTransaction(BaseModel):
    """What a person sees in their transaction list: a deposit, a withdrawal, a refund or a
    chargeback of a deposit, or an adjustment by staff."""

    user = models.ForeignKey(
        settings.AUTH_USER_MODEL,
        on_delete=models.PROTECT,
        related_name="wallet_transactions",
        verbose_name=_("user"),
    )
    kind = models.CharField(max_length=12, choices=TransactionKind.choices, verbose_name=_("kind"))
    direction = models.CharField(
        max_length=6, choices=Direction.choices, verbose_name=_("direction")
    )
    status = FSMField(
        default=TransactionStatus.PENDING,
        choices=TransactionStatus.choices,
        max_length=12,
        verbose_name=_("status"),
    )
    amount_minor = models.BigIntegerField(verbose_name=_("amount (minor units)"))
    currency = models.CharField(max_length=3, verbose_name=_("currency"))
    idempotency_key = models.CharField(max_length=255, verbose_name=_("idempotency key"))
    description = models.CharField(
        max_length=500, blank=True, default="", verbose_name=_("description")
    )
    payment_order = models.ForeignKey(
        "payments.PaymentOrder",
        null=True,
        blank=True,
        on_delete=models.PROTECT,
        related_name="+",
        verbose_name=_("payment order"),
    )
    payout = models.ForeignKey(
        "payments.Payout",
        null=True,
        blank=True,
        on_delete=models.PROTECT,
        related_name="+",
        verbose_name=_("payout"),
    )
    checkout_url = models.URLField(
        max_length=500, blank=True, default="", verbose_name=_("checkout URL")
    )
    expires_at = models.DateTimeField(null=True, blank=True, verbose_name=_("expires at"))
    bank_details_masked = models.JSONField(
        null=True, blank=True, verbose_name=_("bank details masked")
    )
    failure_reason = models.CharField(
        max_length=200, blank=True, default="", verbose_name=_("failure reason")
    )
    completed_at = models.DateTimeField(null=True, blank=True, verbose_name=_("completed at"))
    notified_status = models.CharField(
        max_length=12, blank=True, default="", verbose_name=_("notified status")
    )
    created_by = models.ForeignKey(
        settings.AUTH_USER_MODEL,
        null=True,
        blank=True,
        on_delete=models.PROTECT,
        related_name="+",
        verbose_name=_("created by"),
    )

    class Meta:
        verbose_name = _("wallet transaction")
        verbose_name_plural = _("wallet transactions")
        ordering = ("-created_at",)
        permissions = (("make_adjustment", "Can make manual ledger adjustments"),)
        constraints: ClassVar[list[Any]] = [
            models.UniqueConstraint(
                fields=["user", "kind", "idempotency_key"], name="wallet_transaction_idempotency"
            ),
            models.CheckConstraint(
                condition=Q(amount_minor__gt=0), name="wallet_transaction_amount_positive"
            ),
            models.CheckConstraint(
                condition=Q(kind__in=TransactionKind.values), name="wallet_transaction_kind_valid"
            ),
            models.CheckConstraint(
                condition=Q(status__in=TransactionStatus.values),
                name="wallet_transaction_status_valid",
            ),
            models.CheckConstraint(
                condition=(Q(kind=TransactionKind.DEPOSIT) & Q(direction=Direction.CREDIT))
                | (
                    Q(
                        kind__in=[
                            TransactionKind.WITHDRAWAL,
                            TransactionKind.REFUND,
                            TransactionKind.CHARGEBACK,
                        ]
                    )
                    & Q(direction=Direction.DEBIT)
                )
                | Q(kind=TransactionKind.ADJUSTMENT),
                name="wallet_transaction_direction_fits_kind",
            ),
        ]
        indexes: ClassVar[list[Any]] = [
            models.Index(fields=["user", "-created_at", "-id"], name="wallet_tx_user_idx"),
            models.Index(fields=["status", "created_at"], name="wallet_tx_status_idx"),
            # The notices still to send (services/notices.py: NOTICE_DUE), oldest change first.
            models.Index(
                fields=["updated_at"],
                name="wallet_tx_notice_due_idx",
                condition=Q(
                    status__in=["completed", "failed", "expired", "cancelled"],
                )
                & ~Q(notified_status=F("status")),
            ),
        ]

    def __str__(self) -> str:
        return f"{self.kind} {self.amount_minor} {self.currency} ({self.status})"

    # Deposits ------------------------------------------------------------------------------

    @transition(
        field=status,
        source=[TransactionStatus.PENDING, *CLOSED_UNPAID],
        target=TransactionStatus.COMPLETED,
        conditions=[_is_deposit],
    )
    def credit(self, *, now: datetime) -> None:
        self.completed_at = now
        self.failure_reason = ""

    @transition(field=status, source=TransactionStatus.PENDING, target=TransactionStatus.FAILED)
    def fail_deposit(self, *, reason: str = "") -> None:
        self.failure_reason = reason[:200]

    @transition(field=status, source=TransactionStatus.PENDING, target=TransactionStatus.EXPIRED)
    def expire(self) -> None:
        pass

    @transition(field=status, source=TransactionStatus.PENDING, target=TransactionStatus.CANCELLED)
    def cancel(self, *, reason: str = "") -> None:
        self.failure_reason = reason[:200]

    # Withdrawals ---------------------------------------------------------------------------

    @transition(
        field=status,
        source=TransactionStatus.PROCESSING,
        target=TransactionStatus.COMPLETED,
        conditions=[_is_withdrawal],
    )
    def pay_out(self, *, now: datetime) -> None:
        self.completed_at = now

    @transition(field=status, source=TransactionStatus.PROCESSING, target=TransactionStatus.FAILED)
    def return_funds(self, *, reason: str = "") -> None:
        self.failure_reason = reason[:200]


class LedgerCheck(models.Model):
    """One run of the nightly ledger check, kept for the admin (and read by /metrics)."""

    id = models.BigAutoField(primary_key=True, verbose_name=_("ID"))
    started_at = models.DateTimeField(verbose_name=_("started at"))
    finished_at = models.DateTimeField(verbose_name=_("finished at"))
    ok = models.BooleanField(verbose_name=_("passed"))
    wallets_checked = models.PositiveIntegerField(default=0, verbose_name=_("wallets checked"))
    entries_checked = models.PositiveBigIntegerField(default=0, verbose_name=_("entries checked"))
    balance_mismatches = models.JSONField(
        default=list, blank=True, verbose_name=_("balance mismatches")
    )
    currency_sums = models.JSONField(default=dict, blank=True, verbose_name=_("currency sums"))
    unbalanced_transfers = models.JSONField(
        default=list, blank=True, verbose_name=_("unbalanced transfers")
    )

    class Meta:
        verbose_name = _("ledger check")
        verbose_name_plural = _("ledger checks")
        ordering = ("-started_at",)
        get_latest_by = "started_at"

    def __str__(self) -> str:
        return f"ledger check {self.started_at:%Y-%m-%d %H:%M} ({'ok' if self.ok else 'FAILED'})"
