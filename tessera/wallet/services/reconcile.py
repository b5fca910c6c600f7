"""The wallet's side of reconciliation and the nightly ledger check."""

from __future__ import annotations

from datetime import timedelta

import structlog
from django.conf import settings
from django.db import connection, transaction
from django.db.models import Count, F, OuterRef, Subquery, Sum, Value
from django.db.models.functions import Coalesce
from django.utils import timezone

from tessera.audit.services import audit_record
from tessera.wallet.models import (
    AccountKind,
    LedgerAccount,
    LedgerCheck,
    LedgerEntry,
    TransactionKind,
    TransactionStatus,
    WalletTransaction,
)
from tessera.wallet.services.common import settled

logger = structlog.get_logger("tessera.wallet")


def wallet_reconcile() -> int:
    """Every 15 minutes: deposits whose checkout was never made (the gateway was down and
    nobody retried) are expired after WALLET_RECONCILE_AFTER_SECONDS. Deposits and
    withdrawals with an order or payout are settled by the payments reconciliation, whose
    outcome reaches the wallet through its handlers."""
    cutoff = timezone.now() - timedelta(seconds=settings.WALLET_RECONCILE_AFTER_SECONDS)
    expired = 0
    stale = WalletTransaction.objects.filter(
        kind=TransactionKind.DEPOSIT,
        status=TransactionStatus.PENDING,
        payment_order__isnull=True,
        created_at__lte=cutoff,
    ).values_list("pk", flat=True)
    for tx_id in list(stale[:500]):
        with transaction.atomic():
            tx = WalletTransaction.objects.select_for_update().get(pk=tx_id)
            if tx.status != TransactionStatus.PENDING or tx.payment_order_id:
                continue
            tx.expire()
            tx.save()
            audit_record(action="wallet.deposit.expired", target=tx)
            settled(tx)
            expired += 1
    return expired


def ledger_check() -> LedgerCheck:
    """Prove the ledger: every wallet's balance column equals the sum of its entries, every
    transfer and the whole ledger sum to zero per currency. A failure is logged as an
    error, listed in the admin (LedgerCheck) and exported as a metric."""
    started = timezone.now()
    entry_sums = (
        LedgerEntry.objects.filter(account=OuterRef("pk"))
        .values("account")
        .annotate(total=Sum("amount_minor"))
        .values("total")
    )
    wallets = LedgerAccount.objects.filter(kind=AccountKind.USER_WALLET).annotate(
        entries_total=Coalesce(Subquery(entry_sums), Value(0))
    )
    mismatches = [
        {
            "account": account.pk,
            "owner": str(account.owner_id),
            "currency": account.currency,
            "balance": account.balance_minor,
            "entries": account.entries_total,
        }
        for account in wallets.exclude(balance_minor=F("entries_total"))[:1000]
    ]
    negative = [
        {"account": pk, "issue": "negative balance"}
        for pk in LedgerAccount.objects.filter(balance_minor__lt=0).values_list("pk", flat=True)
    ]
    totals = LedgerEntry.objects.values("currency").annotate(total=Sum("amount_minor"))
    currency_sums = {row["currency"]: row["total"] for row in totals}
    unbalanced = [
        {"transfer": str(row["transfer"]), "currency": row["currency"], "sum": row["total"]}
        for row in LedgerEntry.objects.values("transfer", "currency")
        .annotate(total=Sum("amount_minor"))
        .exclude(total=0)[:1000]
    ]
    currency_mismatch = [
        {"entry": pk, "issue": "entry currency differs from its account's"}
        for pk in _entries_in_wrong_currency()
    ]
    ok = not (
        mismatches
        or negative
        or unbalanced
        or currency_mismatch
        or any(total for total in currency_sums.values())
    )
    check = LedgerCheck.objects.create(
        started_at=started,
        finished_at=timezone.now(),
        ok=ok,
        wallets_checked=wallets.count(),
        entries_checked=LedgerEntry.objects.aggregate(n=Count("id"))["n"],
        balance_mismatches=mismatches + negative + currency_mismatch,
        currency_sums=currency_sums,
        unbalanced_transfers=unbalanced,
    )
    if ok:
        logger.info("ledger_check_ok", wallets=check.wallets_checked, entries=check.entries_checked)
    else:
        logger.error(
            "ledger_check_failed",
            check_id=check.pk,
            balance_mismatches=len(check.balance_mismatches),
            unbalanced_transfers=len(unbalanced),
            currency_sums={c: t for c, t in currency_sums.items() if t},
        )
    return check


def _entries_in_wrong_currency() -> list[int]:
    with connection.cursor() as cursor:
        cursor.execute(
            "SELECT e.id FROM wallet_ledgerentry e JOIN wallet_ledgeraccount a "
            "ON a.id = e.account_id WHERE a.currency <> e.currency LIMIT 1000"
        )
        return [row[0] for row in cursor.fetchall()]
