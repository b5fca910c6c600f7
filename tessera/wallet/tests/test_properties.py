"""A hypothesis state machine on PostgreSQL fires deposits, payments, failures, withdrawals,
payout outcomes, webhook replays and events out of order at one wallet, with real commits
(so the deferred ledger trigger runs), and checks the ledger after every step: each wallet's
balance equals its entries, the ledger sums to zero per currency, no balance is negative,
and the balance is what the person is owed."""

from __future__ import annotations

import itertools
import time
import uuid
from typing import Any

import pytest
from django.db import connection
from django.utils import timezone
from hypothesis import HealthCheck
from hypothesis import settings as hypothesis_settings
from hypothesis import strategies as st
from hypothesis.stateful import (
    RuleBasedStateMachine,
    invariant,
    precondition,
    rule,
    run_state_machine_as_test,
)

from tessera.accounts.models import User
from tessera.payments import sandbox
from tessera.payments import services as payments
from tessera.payments.models import PaymentOrder, SandboxPayout, SandboxWebhook
from tessera.payments.tests.helpers import purchase_body, sandbox_sign
from tessera.wallet import services
from tessera.wallet.errors import InsufficientFundsError
from tessera.wallet.models import WalletTransaction
from tessera.wallet.tests.helpers import BANK_SNAKE, balance

pytestmark = [
    pytest.mark.postgres,
    pytest.mark.django_db(transaction=True, serialized_rollback=True),
]

amounts = st.integers(min_value=100, max_value=50_000)  # R 1.00 to R 500.00
_sequence = itertools.count()


def _receive(body: bytes, signature: str) -> None:
    receipt = payments.webhook_receive(
        provider_name="sandbox", body=body, headers={"X-Signature": signature}
    )
    if not receipt.duplicate:
        payments.webhook_process(delivery_id=receipt.delivery_id)


class WalletMachine(RuleBasedStateMachine):
    def __init__(self) -> None:
        super().__init__()
        self.user = User.objects.create_user(email=f"prop{next(_sequence)}@example.com")
        self.open: list[WalletTransaction] = []  # deposits waiting to be paid
        self.failed: list[WalletTransaction] = []
        self.owed = 0  # what the wallet must hold
        # Earlier examples' rows stay committed: every precondition looks at this example's
        # own rows only, or hypothesis sees a rule enabled on one run and not on its replay.
        self.started = timezone.now()

    @rule(amount=amounts)
    def deposit(self, amount: int) -> None:
        tx = services.deposit_create(
            user=self.user, amount_minor=amount, currency="ZAR", idempotency_key=str(uuid.uuid4())
        )
        self.open.append(tx)

    def _purchase(self, tx: WalletTransaction) -> str:
        return str(PaymentOrder.objects.get(pk=str(tx.payment_order_id)).provider_purchase_id)

    @precondition(lambda self: self.open)
    @rule(data=st.data(), action=st.sampled_from(["pay", "fail", "cancel"]))
    def checkout(self, data: Any, action: str) -> None:
        tx = self.open.pop(data.draw(st.integers(0, len(self.open) - 1)))
        sandbox.purchase_act(purchase_id=self._purchase(tx), action=action)  # webhook sent
        if action == "pay":
            self.owed += tx.amount_minor
        else:
            self.failed.append(tx)

    @precondition(lambda self: self.failed)
    @rule(data=st.data())
    def paid_after_failed(self, data: Any) -> None:
        """The gateway's paid event arrives after its failure: the money came, credit it."""
        tx = self.failed.pop(data.draw(st.integers(0, len(self.failed) - 1)))
        body = purchase_body(
            purchase_id=self._purchase(tx), total=tx.amount_minor, updated_on=int(time.time()) + 1
        )
        _receive(body, sandbox_sign(body))
        self.owed += tx.amount_minor

    def _webhooks(self) -> Any:
        return SandboxWebhook.objects.filter(created_at__gte=self.started)

    def _completed_deposits(self) -> Any:
        return WalletTransaction.objects.filter(user=self.user, kind="deposit", status="completed")

    def _pending_payouts(self) -> Any:
        return SandboxPayout.objects.filter(status="pending", created_at__gte=self.started)

    @precondition(lambda self: self._webhooks().exists())
    @rule(data=st.data())
    def replay_a_webhook(self, data: Any) -> None:
        webhooks = list(self._webhooks().order_by("created_at", "id"))
        webhook = webhooks[data.draw(st.integers(0, len(webhooks) - 1))]
        _receive(bytes(webhook.body), webhook.signature)

    @precondition(lambda self: self._completed_deposits().exists())
    @rule()
    def late_failure_after_paid(self) -> None:
        tx = self._completed_deposits().order_by("created_at", "id").first()
        assert tx is not None
        body = purchase_body(
            purchase_id=self._purchase(tx),
            event_type="purchase.payment_failure",
            status="error",
            total=tx.amount_minor,
            updated_on=int(time.time()) + 2,
        )
        _receive(body, sandbox_sign(body))

    @rule(amount=amounts, failing=st.booleans())
    def withdraw(self, amount: int, failing: bool) -> None:
        amount = max(amount, 1_000)  # the minimum is R 10.00
        details = {**BANK_SNAKE, "account_number": "0000000000" if failing else "1234567890"}
        try:
            services.withdrawal_create(
                user=self.user,
                amount_minor=amount,
                currency="ZAR",
                bank_details=details,
                idempotency_key=str(uuid.uuid4()),
            )
        except InsufficientFundsError:
            assert self.owed < amount
            return
        self.owed -= amount

    @precondition(lambda self: self._pending_payouts().exists())
    @rule()
    def settle_payouts(self) -> None:
        failing = sum(
            WalletTransaction.objects.filter(
                user=self.user,
                kind="withdrawal",
                status="processing",
                payout__bank_details_masked__account_number__endswith="0000",
            ).values_list("amount_minor", flat=True)
        )
        self._pending_payouts().update(settle_at=timezone.now())
        payments.payments_sweep()
        self.owed += failing  # failed payouts give the money back

    @invariant()
    def the_ledger_holds(self) -> None:
        with connection.cursor() as cursor:
            cursor.execute(
                """
                SELECT count(*) FROM wallet_ledgeraccount a
                WHERE a.kind = 'user_wallet' AND a.balance_minor <> COALESCE(
                    (SELECT sum(e.amount_minor) FROM wallet_ledgerentry e
                     WHERE e.account_id = a.id), 0)
                """
            )
            assert cursor.fetchone() == (0,)
            cursor.execute(
                "SELECT currency, sum(amount_minor) FROM wallet_ledgerentry GROUP BY currency "
                "HAVING sum(amount_minor) <> 0"
            )
            assert cursor.fetchall() == []
            cursor.execute("SELECT count(*) FROM wallet_ledgeraccount WHERE balance_minor < 0")
            assert cursor.fetchone() == (0,)
        assert balance(self.user) == self.owed


def test_the_ledger_holds_whatever_happens(sandbox_wire: None, settings: Any) -> None:
    settings.PAYMENTS_SANDBOX_PAYOUT_DELAY_SECONDS = 3600  # payouts settle when a rule says
    run_state_machine_as_test(
        WalletMachine,
        settings=hypothesis_settings(
            max_examples=12,
            stateful_step_count=14,
            deadline=None,
            suppress_health_check=[HealthCheck.too_slow, HealthCheck.filter_too_much],
        ),
    )
    assert services.ledger_check().ok
