"""Posting to the double-entry ledger.

`transfer_post` is the only writer of entries and balances. It runs inside the caller's
transaction, posts a transfer once per `reference`, checks that the legs sum to zero per
currency (the database checks it again at commit on PostgreSQL), locks the wallet accounts
it touches with SELECT … FOR UPDATE in account-id order (two transfers touching the same
wallets never wait for each other in opposite orders), refuses to take a wallet below zero
(and the check constraint backs that up), and moves each wallet's balance column with its
entries.
"""

from __future__ import annotations

from collections import defaultdict
from collections.abc import Sequence
from typing import Any, Literal, overload

from django.db import IntegrityError, connection, transaction
from django.db.models import F

from tessera.wallet.errors import InsufficientFundsError, LedgerUnbalancedError
from tessera.wallet.models import AccountKind, LedgerAccount, LedgerEntry, LedgerTransfer

Leg = tuple[LedgerAccount, int]


@overload
def wallet_account(
    *, user_id: Any, currency: str, create: Literal[True] = True
) -> LedgerAccount: ...


@overload
def wallet_account(
    *, user_id: Any, currency: str, create: Literal[False]
) -> LedgerAccount | None: ...


def wallet_account(*, user_id: Any, currency: str, create: bool = True) -> LedgerAccount | None:
    """The user's wallet in `currency` (made on first use when `create`)."""
    lookup = {"kind": AccountKind.USER_WALLET, "owner_id": user_id, "currency": currency}
    account = LedgerAccount.objects.filter(**lookup).first()
    if account is not None or not create:
        return account
    try:
        with transaction.atomic():
            return LedgerAccount.objects.create(balance_minor=0, **lookup)
    except IntegrityError:  # made by a concurrent first deposit
        return LedgerAccount.objects.get(**lookup)


def system_account(*, kind: str, currency: str) -> LedgerAccount:
    lookup = {"kind": kind, "owner": None, "currency": currency}
    account = LedgerAccount.objects.filter(**lookup).first()
    if account is not None:
        return account
    try:
        with transaction.atomic():
            return LedgerAccount.objects.create(kind=kind, currency=currency, balance_minor=None)
    except IntegrityError:
        return LedgerAccount.objects.get(**lookup)


def wallets_lock(account_ids: Sequence[int]) -> dict[int, LedgerAccount]:
    """Lock wallet accounts in id order and return them fresh."""
    locked = LedgerAccount.objects.select_for_update().filter(pk__in=account_ids).order_by("pk")
    return {account.pk: account for account in locked}


def transfer_post(
    *,
    kind: str,
    reference: str,
    legs: Sequence[Leg],
    description: str = "",
    created_by: Any = None,
) -> LedgerTransfer | None:
    """Post one balanced transfer, once: returns None when `reference` was posted before.
    Raises InsufficientFundsError when a wallet would go below zero."""
    if not connection.in_atomic_block:
        raise RuntimeError("transfer_post runs inside the caller's transaction")
    if LedgerTransfer.objects.filter(reference=reference).exists():
        return None
    _check_legs(legs)
    wallet_ids = sorted(
        {account.pk for account, _ in legs if account.kind == AccountKind.USER_WALLET}
    )
    locked = wallets_lock(wallet_ids)
    moves: dict[int, int] = defaultdict(int)
    for account, amount in legs:
        if account.kind == AccountKind.USER_WALLET:
            moves[account.pk] += amount
    for account_id, amount in moves.items():
        balance = locked[account_id].balance_minor or 0
        if balance + amount < 0:
            raise InsufficientFundsError
    transfer = LedgerTransfer.objects.create(
        kind=kind, reference=reference, description=description[:500], created_by=created_by
    )
    LedgerEntry.objects.bulk_create(
        [
            LedgerEntry(
                transfer=transfer, account=account, amount_minor=amount, currency=account.currency
            )
            for account, amount in legs
        ]
    )
    for account_id, amount in sorted(moves.items()):
        if amount:
            LedgerAccount.objects.filter(pk=account_id).update(
                balance_minor=F("balance_minor") + amount
            )
    return transfer


def _check_legs(legs: Sequence[Leg]) -> None:
    if len(legs) < 2:
        raise LedgerUnbalancedError("a transfer has at least two entries")
    sums: dict[str, int] = defaultdict(int)
    for account, amount in legs:
        if not isinstance(amount, int) or isinstance(amount, bool) or amount == 0:
            raise LedgerUnbalancedError(f"an entry of {amount!r}: amounts are non-zero integers")
        sums[account.currency] += amount
    unbalanced = {currency: total for currency, total in sums.items() if total}
    if unbalanced:
        raise LedgerUnbalancedError(f"the entries do not sum to zero: {unbalanced}")
