"""Thin Celery wrappers over the wallet services."""

from __future__ import annotations

from typing import Any

from celery import shared_task

from tessera.core.jobs import TesseraTask
from tessera.wallet import services


@shared_task(base=TesseraTask, name="wallet.notify_transaction")
def notify_transaction(transaction_id: str) -> str | None:
    return services.transaction_notify(transaction_id=transaction_id)


@shared_task(base=TesseraTask, name="wallet.reconcile")
def wallet_reconcile() -> int:
    return services.wallet_reconcile()


@shared_task(base=TesseraTask, name="wallet.ledger_check")
def ledger_check() -> dict[str, Any]:
    check = services.ledger_check()
    return {"ok": check.ok, "wallets": check.wallets_checked, "entries": check.entries_checked}
