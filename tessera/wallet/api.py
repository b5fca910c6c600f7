"""The wallet API: deposits, withdrawals, balance and transactions of the signed-in user.

Every POST requires `Idempotency-Key` and is audited; withdrawals are limited to
WALLET_WITHDRAWAL_RATE per user (5 an hour).
"""

# No `from __future__ import annotations`: Ninja builds the Query[...] model from the
# evaluated annotation.
from typing import Any
from uuid import UUID

from django.conf import settings
from django.http import HttpRequest
from ninja import Query
from ninja.pagination import paginate
from ninja.responses import Status

from tessera.core.api import ApiRouter
from tessera.core.auth import bearer_auth, require_user
from tessera.core.context import client_context
from tessera.core.idempotency import HEADER, idempotent
from tessera.core.money import amount_parse, currency_check
from tessera.core.pagination import CursorPagination
from tessera.core.ratelimit import RateLimit
from tessera.wallet import selectors, services
from tessera.wallet.schemas import (
    BalancesOut,
    DepositIn,
    DepositOut,
    TransactionFilter,
    TransactionOut,
    WithdrawalIn,
    WithdrawalOut,
)

deposits_router = ApiRouter(auth=bearer_auth)
withdrawals_router = ApiRouter(auth=bearer_auth)
balance_router = ApiRouter(auth=bearer_auth)
transactions_router = ApiRouter(auth=bearer_auth)


def _money(amount: str, currency: str) -> tuple[int, str]:
    code = currency_check(currency)
    return amount_parse(amount, code), code


@deposits_router.post(
    "",
    response={201: DepositOut},
    summary="Deposit: a pending transaction and the checkout where it is paid",
)
@idempotent(required=True)
def deposit_create(request: HttpRequest, payload: DepositIn) -> Any:
    amount_minor, currency = _money(payload.amount, payload.currency)
    tx = services.deposit_create(
        user=require_user(request),
        amount_minor=amount_minor,
        currency=currency,
        idempotency_key=request.headers[HEADER],
        client=client_context(request),
    )
    return Status(201, tx)


@withdrawals_router.post(
    "",
    response={201: WithdrawalOut},
    summary="Withdraw to a bank account: the amount is reserved at once, then paid out",
    throttle=[RateLimit(settings.WALLET_WITHDRAWAL_RATE, key="user", scope="wallet:withdrawals")],
)
@idempotent(required=True)
def withdrawal_create(request: HttpRequest, payload: WithdrawalIn) -> Any:
    amount_minor, currency = _money(payload.amount, payload.currency)
    tx = services.withdrawal_create(
        user=require_user(request),
        amount_minor=amount_minor,
        currency=currency,
        bank_details=payload.bank_details.model_dump(),
        idempotency_key=request.headers[HEADER],
        client=client_context(request),
    )
    return Status(201, tx)


@balance_router.get("", response=BalancesOut, summary="Your balance in each currency")
def balance_get(request: HttpRequest) -> Any:
    return {"balances": selectors.balance_list(user=require_user(request))}


@transactions_router.get(
    "", response=list[TransactionOut], summary="Your transactions, newest first"
)
@paginate(CursorPagination)
def transaction_list(request: HttpRequest, filters: Query[TransactionFilter]) -> Any:
    return selectors.transaction_list(
        user=require_user(request),
        kind=filters.kind,
        status=filters.status,
        currency=filters.currency,
        created_after=filters.created_after,
        created_before=filters.created_before,
    )


@transactions_router.get("/{transaction_id}", response=TransactionOut, summary="One transaction")
def transaction_get(request: HttpRequest, transaction_id: UUID) -> Any:
    return selectors.transaction_get(user=require_user(request), transaction_id=transaction_id)
