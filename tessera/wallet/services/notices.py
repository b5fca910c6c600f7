"""Telling people about their money: one in-app notice and one email per final status.

A transaction whose status is final and not yet told (`notified_status` differs from
`status`) is due. Notices go out in batches (`transactions_notify_due`, run by a drain task
that the settlement schedules after its commit, at most one at a time, and every minute by
beat), each batch one `notify_many` per notice kind in one transaction with the rows it marks
told, so a notice is written exactly once per status whatever runs twice.
"""

from __future__ import annotations

from collections import defaultdict
from collections.abc import Sequence
from typing import Any

import structlog
from django.db import transaction
from django.db.models import F, Q
from django.utils import timezone

from tessera.core.money import amount_display
from tessera.notifications.services import NotifyItem, notify_many
from tessera.wallet.models import TransactionKind, TransactionStatus, WalletTransaction

logger = structlog.get_logger("tessera.wallet.notices")

NOTICE_DRAIN_NAME = "wallet.notices"

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
FINAL_STATUSES = [
    TransactionStatus.COMPLETED,
    TransactionStatus.FAILED,
    TransactionStatus.EXPIRED,
    TransactionStatus.CANCELLED,
]
# What the partial index `wallet_tx_notice_due_idx` covers.
NOTICE_DUE = Q(status__in=FINAL_STATUSES) & ~Q(notified_status=F("status"))


def _item(tx: WalletTransaction) -> NotifyItem:
    language = tx.user.language or "en"
    return NotifyItem(
        user=tx.user,
        context={
            "amount": amount_display(tx.amount_minor, tx.currency, language=language),
            "currency": tx.currency,
            "reason": tx.failure_reason or tx.description,
            "direction": tx.direction,
        },
        data={"transactionId": str(tx.pk), "kind": tx.kind, "status": tx.status},
    )


def _tell(rows: Sequence[WalletTransaction]) -> tuple[dict[Any, str], list[Any]]:
    """Write the notices of `rows` (locked, inside the caller's transaction) and mark them
    told. Returns the notification kind sent per transaction id, and the ids whose kind
    could not be written (left due, logged)."""
    by_kind: dict[str, list[WalletTransaction]] = defaultdict(list)
    for tx in rows:
        kind = NOTICES.get((str(tx.kind), str(tx.status)))
        if kind is not None:
            by_kind[kind].append(tx)
    sent: dict[Any, str] = {}
    refused: list[Any] = []
    for kind, members in by_kind.items():
        try:
            with transaction.atomic():
                notify_many(kind=kind, items=[_item(tx) for tx in members])
        except Exception:
            logger.exception("wallet_notice_failed", kind=kind, transactions=len(members))
            refused += [tx.pk for tx in members]
            continue
        sent.update({tx.pk: kind for tx in members})
    told = [tx.pk for tx in rows if tx.pk not in set(refused)]
    # A status without a notice counts as told too: nothing is left due for it.
    WalletTransaction.objects.filter(pk__in=told).update(
        notified_status=F("status"), updated_at=timezone.now()
    )
    if refused:  # to the back of the queue, so they never hold the others up
        WalletTransaction.objects.filter(pk__in=refused).update(updated_at=timezone.now())
    return sent, refused


def transaction_notify(*, transaction_id: Any) -> str | None:
    """Send the notice for the transaction's current status, once (a rerun finds it sent).
    Returns the notification kind sent, or None."""
    with transaction.atomic():
        tx = (
            WalletTransaction.objects.select_for_update(of=("self",))
            .select_related("user")
            .filter(pk=transaction_id)
            .filter(NOTICE_DUE)
            .first()
        )
        if tx is None:
            return None
        sent, _ = _tell([tx])
    return sent.get(tx.pk)


def transactions_notify_due(*, batch_size: int = 200, limit: int = 5000) -> int:
    """Send every due notice, in batches of `batch_size`, oldest change first, until none is
    due or `limit` were taken. Each batch is claimed with `SELECT … FOR UPDATE SKIP LOCKED`:
    runs at once never take the same transaction. Returns how many were taken."""
    taken = 0
    refused: list[Any] = []
    while taken < limit:
        with transaction.atomic():
            rows = list(
                WalletTransaction.objects.select_for_update(skip_locked=True, of=("self",))
                .select_related("user")
                .filter(NOTICE_DUE)
                .exclude(pk__in=refused)
                .order_by("updated_at")[: min(batch_size, limit - taken)]
            )
            if not rows:
                break
            _, failed = _tell(rows)
        refused += failed
        taken += len(rows)
    return taken
