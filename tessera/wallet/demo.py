"""A demo wallet for demo@tessera.local (idempotent): R 1,250.00 after two deposits and a
withdrawal, and a deposit that failed, so the balance and the transaction list have
something to show before the first sandbox deposit."""

from __future__ import annotations

from datetime import timedelta

from django.db import transaction
from django.utils import timezone

from tessera.accounts.selectors import user_get_by_email
from tessera.wallet.models import (
    AccountKind,
    Direction,
    TransactionKind,
    TransactionStatus,
    TransferKind,
    WalletTransaction,
)
from tessera.wallet.services.ledger import system_account, transfer_post, wallet_account

DEMO_EMAIL = "demo@tessera.local"
CURRENCY = "ZAR"
# (kind, status, amount in cents, days ago)
HISTORY = (
    (TransactionKind.DEPOSIT, TransactionStatus.COMPLETED, 100_000, 9),
    (TransactionKind.DEPOSIT, TransactionStatus.FAILED, 20_000, 6),
    (TransactionKind.DEPOSIT, TransactionStatus.COMPLETED, 50_000, 4),
    (TransactionKind.WITHDRAWAL, TransactionStatus.COMPLETED, 25_000, 2),
)
DEMO_BANK = {
    "account_holder": "Dana Demo",
    "account_number": "••••••4321",
    "bank_code": "250655",
}


def load() -> int:
    user = user_get_by_email(email=DEMO_EMAIL)
    if user is None or WalletTransaction.objects.filter(user=user).exists():
        return 0
    now = timezone.now()
    created = 0
    with transaction.atomic():
        wallet = wallet_account(user_id=user.pk, currency=CURRENCY)
        clearing = system_account(kind=AccountKind.GATEWAY_CLEARING, currency=CURRENCY)
        in_flight = system_account(kind=AccountKind.PAYOUTS_IN_FLIGHT, currency=CURRENCY)
        for number, (kind, status, amount, days_ago) in enumerate(HISTORY, start=1):
            when = now - timedelta(days=days_ago)
            withdrawal = kind == TransactionKind.WITHDRAWAL
            tx = WalletTransaction.objects.create(
                user=user,
                kind=kind,
                direction=Direction.DEBIT if withdrawal else Direction.CREDIT,
                status=status,
                amount_minor=amount,
                currency=CURRENCY,
                idempotency_key=f"demo-{number}",
                bank_details_masked=DEMO_BANK if withdrawal else None,
                failure_reason="The card was declined (demo)." if status == "failed" else "",
                completed_at=when if status == TransactionStatus.COMPLETED else None,
            )
            WalletTransaction.objects.filter(pk=tx.pk).update(created_at=when, updated_at=when)
            created += 1
            if status != TransactionStatus.COMPLETED:
                continue
            if withdrawal:
                legs = [
                    ("reserve", TransferKind.WITHDRAWAL_RESERVE, wallet, in_flight),
                    ("complete", TransferKind.WITHDRAWAL_COMPLETE, in_flight, clearing),
                ]
            else:
                legs = [("credit", TransferKind.DEPOSIT, clearing, wallet)]
            for step, transfer_kind, source, target in legs:
                transfer_post(
                    kind=transfer_kind,
                    reference=f"demo:{tx.pk}:{step}",
                    legs=[(source, -amount), (target, amount)],
                    description="Demo data",
                )
                created += 1
    return created
