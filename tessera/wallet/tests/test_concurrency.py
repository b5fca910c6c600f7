"""No double spend and no double credit, on real parallel PostgreSQL connections."""

from __future__ import annotations

import contextlib
import threading
import uuid
from collections import Counter
from typing import Any

import pytest
from django.db import connection

from tessera.payments import services as payments
from tessera.payments.models import DeliveryState, PaymentOrder, WebhookDelivery
from tessera.payments.tests.helpers import purchase_body, sandbox_sign
from tessera.wallet import services
from tessera.wallet.errors import InsufficientFundsError
from tessera.wallet.models import LedgerTransfer, WalletTransaction
from tessera.wallet.tests.helpers import BANK_SNAKE, balance, fund
from tests.concurrency import race

pytestmark = [
    pytest.mark.postgres,
    pytest.mark.django_db(transaction=True, serialized_rollback=True),
]


@pytest.fixture(autouse=True)
def _slow_payouts(settings: Any, sandbox_wire: None) -> None:
    # Payouts stay in flight: this is about reserving, not settling.
    settings.PAYMENTS_SANDBOX_PAYOUT_DELAY_SECONDS = 3600


def test_200_concurrent_withdrawals_succeed_exactly_as_often_as_the_balance_allows(
    user: Any,
) -> None:
    fund(user, 100_000)  # R 1,000.00
    amount, threads, per_thread = 3_000, 40, 5  # 200 withdrawals of R 30.00, 40 at a time
    lowest: list[int] = []
    lock = threading.Lock()

    def withdraw_five() -> Counter[str]:
        outcomes: Counter[str] = Counter()
        for _ in range(per_thread):
            try:
                services.withdrawal_create(
                    user=user,
                    amount_minor=amount,
                    currency="ZAR",
                    bank_details=BANK_SNAKE,
                    idempotency_key=str(uuid.uuid4()),
                )
                outcomes["ok"] += 1
            except InsufficientFundsError:
                outcomes["insufficient"] += 1
            with connection.cursor() as cursor:
                cursor.execute(
                    "SELECT balance_minor FROM wallet_ledgeraccount WHERE owner_id = %s",
                    [user.pk],
                )
                (seen,) = cursor.fetchone()
            with lock:
                lowest.append(seen)
        return outcomes

    results = race(withdraw_five, threads, join_timeout=300)

    assert all(isinstance(r, Counter) for r in results), [
        r for r in results if not isinstance(r, Counter)
    ]
    total: Counter[str] = sum(results, Counter())
    assert total["ok"] == 100_000 // amount == 33
    assert total["insufficient"] == threads * per_thread - 33
    assert min(lowest) >= 0
    assert balance(user) == 100_000 - 33 * amount
    assert WalletTransaction.objects.filter(kind="withdrawal", status="processing").count() == 33
    assert services.ledger_check().ok


def test_the_same_idempotency_key_in_parallel_is_one_withdrawal(user: Any) -> None:
    fund(user, 10_000)

    def withdraw() -> Any:
        return services.withdrawal_create(
            user=user,
            amount_minor=2_000,
            currency="ZAR",
            bank_details=BANK_SNAKE,
            idempotency_key="same",
        ).pk

    results = race(withdraw, 8)
    assert len(set(results)) == 1, results
    assert balance(user) == 8_000


def test_a_paid_webhook_delivered_and_processed_many_times_at_once_credits_once(user: Any) -> None:
    deposit = services.deposit_create(
        user=user, amount_minor=15_000, currency="ZAR", idempotency_key="d"
    )
    # The gateway's paid event, as it would arrive (and arrive again) at our door.
    body = purchase_body(
        purchase_id=PaymentOrder.objects.get(pk=str(deposit.payment_order_id)).provider_purchase_id,
        total=15_000,
        reference=str(deposit.payment_order_id),
    )
    signature = sandbox_sign(body)

    def deliver_and_process() -> str:
        receipt = payments.webhook_receive(
            provider_name="sandbox", body=body, headers={"X-Signature": signature}
        )
        original = receipt.delivery_id
        if receipt.duplicate:
            original = WebhookDelivery.objects.get(pk=receipt.delivery_id).duplicate_of_id
        # Every thread also runs the original's processing, as redelivered tasks would.
        return payments.webhook_process(delivery_id=original)

    results = race(deliver_and_process, 12)

    # (The first receipt's own task, run eagerly at its commit, may be the one that paid.)
    assert all(isinstance(r, str) for r in results), results
    assert sum(r.startswith("order") for r in results) <= 1
    assert WebhookDelivery.objects.filter(state=DeliveryState.PROCESSED).count() == 1
    assert WebhookDelivery.objects.filter(state=DeliveryState.DUPLICATE).count() == 11
    assert balance(user) == 15_000
    assert LedgerTransfer.objects.filter(kind="deposit").count() == 1


def test_deposits_and_withdrawals_of_many_people_interleave_without_deadlock(
    user: Any, other_user: Any
) -> None:
    fund(user, 50_000)
    fund(other_user, 50_000)
    people = [user, other_user]

    def churn(index: int) -> int:
        person = people[index % 2]
        for step in range(6):
            if step % 2:
                fund(person, 1_000)
            else:
                with contextlib.suppress(InsufficientFundsError):
                    services.withdrawal_create(
                        user=person,
                        amount_minor=1_500,
                        currency="ZAR",
                        bank_details=BANK_SNAKE,
                        idempotency_key=str(uuid.uuid4()),
                    )
        return index

    counter = iter(range(100))
    results = race(lambda: churn(next(counter)), 10, join_timeout=300)

    assert sorted(results) == list(range(10)), results
    check = services.ledger_check()
    assert check.ok, check.balance_mismatches
    for person in people:
        withdrawn = sum(
            WalletTransaction.objects.filter(user=person, kind="withdrawal").values_list(
                "amount_minor", flat=True
            )
        )
        deposited = sum(
            WalletTransaction.objects.filter(
                user=person, kind="deposit", status="completed"
            ).values_list("amount_minor", flat=True)
        )
        assert balance(person) == deposited - withdrawn
