"""Telling people about their money: one in-app notice and one email per final status."""

from __future__ import annotations

from typing import Any

from django.db import transaction

from tessera.core.money import amount_display
from tessera.notifications.services import notify
from tessera.wallet.models import TransactionKind, TransactionStatus, WalletTransaction

# (kind, status) -> notification kind (templates in migrations 0003 and 0006, en and ar).
NOTICES: dict[tuple[str, str], str] = {
    (TransactionKind.DEPOSIT, TransactionStatus.COMPLETED): "wallet.deposit_completed",
    (TransactionKind.DEPOSIT, TransactionStatus.FAILED): "wallet.deposit_failed",
    (TransactionKind.DEPOSIT, TransactionStatus.EXPIRED): "wallet.deposit_failed",
    (TransactionKind.DEPOSIT, TransactionStatus.CANCELLED): "wallet.deposit_failed",
    (TransactionKind.WITHDRAWAL, TransactionStatus.COMPLETED): "wallet.withdrawal_completed",
    (TransactionKind.WITHDRAWAL, TransactionStatus.FAILED): "wallet.withdrawal_failed",
    (TransactionKind.REFUND, TransactionStatus.COMPLETED): "wallet.refund_completed",
    (TransactionKind.CHARGEBACK, TransactionStatus.COMPLETED): "wallet.chargeback_completed",
    (TransactionKind.ADJUSTMENT, TransactionStatus.COMPLETED): "wallet.adjustment_completed",
}


def transaction_notify(*, transaction_id: Any) -> str | None:
    """Send the notice for the transaction's current status, once (a rerun of the task
    finds it sent). Returns the notification kind sent, or None."""
    with transaction.atomic():
        tx = (
            WalletTransaction.objects.select_for_update()
            .select_related("user")
            .filter(pk=transaction_id)
            .first()
        )
        if tx is None or tx.notified_status == tx.status:
            return None
        kind = NOTICES.get((str(tx.kind), str(tx.status)))
        if kind is None:
            return None
        user = tx.user
        language = user.language or "en"
        notify(
            user=user,
            kind=kind,
            context={
                "amount": amount_display(tx.amount_minor, tx.currency, language=language),
                "currency": tx.currency,
                "reason": tx.failure_reason or tx.description,
                "direction": tx.direction,
            },
            data={"transactionId": str(tx.pk), "kind": tx.kind, "status": tx.status},
        )
        tx.notified_status = str(tx.status)
        tx.save(update_fields=["notified_status", "updated_at"])
    return kind
