"""Thin Celery wrappers over the wallet services."""

from __future__ import annotations

from typing import Any

from celery import shared_task

from tessera.core.jobs import TesseraTask, drain_release
from tessera.wallet import services


@shared_task(base=TesseraTask, name="wallet.notify_transaction")
def notify_transaction(transaction_id: str) -> str | None:
    return services.transaction_notify(transaction_id=transaction_id)


@shared_task(base=TesseraTask, name="wallet.notify_due")
def notify_due(slot: int | None = None, slot_token: str | None = None) -> int:
    """Send every due notice in batches (scheduled after a settlement commits, one at a
    time, and every minute by beat). The slot is freed (if this task still owns it: its
    `slot_token` is still the marker's), then what is due looked at once more, so a notice
    made due while this task held the slot is never left behind. Beat's run took no slot
    (`slot=None`) and frees none."""
    try:
        sent = services.transactions_notify_due()
    finally:
        drain_release(name=services.NOTICE_DRAIN_NAME, slot=slot, token=slot_token)
    return sent + services.transactions_notify_due()


@shared_task(base=TesseraTask, name="wallet.reconcile")
def wallet_reconcile() -> int:
    return services.wallet_reconcile()


@shared_task(base=TesseraTask, name="wallet.ledger_check")
def ledger_check() -> dict[str, Any]:
    check = services.ledger_check()
    return {"ok": check.ok, "wallets": check.wallets_checked, "entries": check.entries_checked}
