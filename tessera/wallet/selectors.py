"""Reads of the wallet for its API and the admin."""

from __future__ import annotations

from datetime import datetime
from typing import Any

from django.db.models import QuerySet, Sum

from tessera.accounts.models import User
from tessera.payments.selectors import as_uuid
from tessera.wallet.errors import TransactionNotFoundError, WalletNotEmptyError
from tessera.wallet.models import (
    AccountKind,
    LedgerAccount,
    TransactionKind,
    TransactionStatus,
    WalletTransaction,
)


def balance_list(*, user: User) -> list[dict[str, Any]]:
    """The user's wallets, one per currency, with what is on its way out."""
    in_flight = {
        row["currency"]: row["total"]
        for row in WalletTransaction.objects.filter(
            user=user, kind=TransactionKind.WITHDRAWAL, status=TransactionStatus.PROCESSING
        )
        .values("currency")
        .annotate(total=Sum("amount_minor"))
    }
    return [
        {
            "currency": account.currency,
            "balance_minor": account.balance_minor or 0,
            "in_flight_minor": in_flight.get(account.currency, 0),
        }
        for account in LedgerAccount.objects.filter(
            kind=AccountKind.USER_WALLET, owner=user
        ).order_by("currency")
    ]


def transaction_list(
    *,
    user: User,
    kind: str | None = None,
    status: str | None = None,
    currency: str | None = None,
    created_after: datetime | None = None,
    created_before: datetime | None = None,
) -> QuerySet[WalletTransaction]:
    queryset = WalletTransaction.objects.filter(user=user)
    if kind:
        queryset = queryset.filter(kind=kind)
    if status:
        queryset = queryset.filter(status=status)
    if currency:
        queryset = queryset.filter(currency=currency.upper())
    if created_after:
        queryset = queryset.filter(created_at__gte=created_after)
    if created_before:
        queryset = queryset.filter(created_at__lt=created_before)
    return queryset


def transaction_get(*, user: User, transaction_id: Any) -> WalletTransaction:
    """One of the user's transactions; anyone else's is indistinguishable from none."""
    key = as_uuid(transaction_id)
    tx = WalletTransaction.objects.filter(pk=key, user=user).first() if key else None
    if tx is None:
        raise TransactionNotFoundError
    return tx


def account_deletion_check(*, user: User) -> None:
    """A person cannot delete their account (tessera.core.deletion) while a wallet of theirs
    holds money or a withdrawal of theirs is still on its way: the money would stay with an
    erased person nobody can pay out to."""
    holds_money = LedgerAccount.objects.filter(
        owner=user, kind=AccountKind.USER_WALLET, balance_minor__gt=0
    ).exists()
    paying_out = WalletTransaction.objects.filter(
        user=user,
        kind=TransactionKind.WITHDRAWAL,
        status__in=[TransactionStatus.PENDING, TransactionStatus.PROCESSING],
    ).exists()
    if holds_money or paying_out:
        raise WalletNotEmptyError
