"""What the gateway reports after a deposit or withdrawal, and what the wallet makes of it:
chargebacks (money still there, or already spent: a dead letter), deposits that expire or
fail, deposits whose checkout was never made (the reconciliation), and the audit records,
in-app notices and emails each final status leaves."""

from __future__ import annotations

import uuid
from datetime import timedelta
from typing import Any

import pytest
from django.core import mail
from django.utils import timezone

from tessera.audit.models import AuditLog
from tessera.core.money import amount_display
from tessera.notifications.models import Delivery, Notification
from tessera.payments import sandbox
from tessera.payments import services as payments
from tessera.payments.errors import PaymentProviderUnavailableError
from tessera.payments.models import (
    DeliveryState,
    OrderStatus,
    PaymentOrder,
    PaymentTransaction,
    SandboxPayout,
    SandboxPurchase,
    WebhookDelivery,
)
from tessera.payments.tasks import process_webhook
from tessera.payments.tests.helpers import chargeback_body, sandbox_sign
from tessera.wallet import services
from tessera.wallet.errors import InsufficientFundsError
from tessera.wallet.models import LedgerEntry, WalletTransaction
from tessera.wallet.tests.helpers import BANK_SNAKE, balance, deliver_sandbox_webhooks, fund

pytestmark = pytest.mark.django_db


def in_subject(minor: int) -> str:
    """An amount as an email's subject shows it: its whitespace made plain spaces."""
    return " ".join(amount_display(minor, "ZAR", language="en").split())


FIFTY = in_subject(5000)


def order_of(tx: WalletTransaction) -> PaymentOrder:
    return PaymentOrder.objects.get(pk=str(tx.payment_order_id))


def charged_back(
    deposit: WalletTransaction, amount: int, *, refused: type[Exception] | None = None
) -> WebhookDelivery:
    """The chargeback received and handed to the processing task, as a worker would (whose
    last attempt raises what refused it)."""
    order = order_of(deposit)
    body = chargeback_body(
        chargeback_id=f"cb-{uuid.uuid4().hex[:8]}",
        purchase_id=order.provider_purchase_id,
        amount=amount,
    )
    receipt = payments.webhook_receive(
        provider_name="sandbox", body=body, headers={"X-Signature": sandbox_sign(body)}
    )
    if refused is None:
        process_webhook.apply(kwargs={"delivery_id": str(receipt.delivery_id)})
    else:
        with pytest.raises(refused):
            process_webhook.apply(kwargs={"delivery_id": str(receipt.delivery_id)})
    return WebhookDelivery.objects.get(pk=receipt.delivery_id)


def kinds_told(user: Any) -> list[str]:
    return sorted(Notification.objects.filter(user=user).values_list("kind", flat=True))


def emails_to(user: Any) -> list[str]:
    return [str(m.subject) for m in mail.outbox if m.to == [user.email]]


def test_a_chargeback_of_a_credited_deposit_takes_the_money_back_from_the_wallet(
    user: Any, django_capture_on_commit_callbacks: Any
) -> None:
    deposit = fund(user, 10000)
    assert balance(user) == 10000

    with django_capture_on_commit_callbacks(execute=True):
        delivery = charged_back(deposit, 10000)

    assert delivery.state == DeliveryState.PROCESSED
    assert balance(user) == 0
    order = order_of(deposit)
    assert (order.status, order.refunded_minor) == (OrderStatus.REFUNDED, 10000)
    assert list(
        PaymentTransaction.objects.filter(order=order, kind="chargeback").values_list(
            "status", "amount_minor"
        )
    ) == [("succeeded", 10000)]
    taken = WalletTransaction.objects.get(user=user, kind="chargeback")
    assert (taken.direction, taken.status, taken.amount_minor) == ("debit", "completed", 10000)
    deposit.refresh_from_db()
    assert deposit.status == "completed"  # it was paid; the chargeback is a movement of its own
    assert sorted(LedgerEntry.objects.values_list("amount_minor", flat=True)) == [
        -10000,
        -10000,
        10000,
        10000,
    ]
    assert services.ledger_check().ok
    assert AuditLog.objects.filter(action="wallet.deposit.charged_back").count() == 1
    assert "wallet.chargeback_completed" in kinds_told(user)

    # The same chargeback delivered again changes nothing.
    body = bytes(delivery.body)
    again = payments.webhook_receive(
        provider_name="sandbox", body=body, headers={"X-Signature": sandbox_sign(body)}
    )
    assert again.duplicate
    assert balance(user) == 0


def test_a_chargeback_of_money_already_spent_becomes_a_dead_letter_and_changes_nothing(
    user: Any, settings: Any, django_capture_on_commit_callbacks: Any
) -> None:
    settings.PAYMENTS_WEBHOOK_MAX_ATTEMPTS = 1
    settings.PAYMENTS_SANDBOX_PAYOUT_DELAY_SECONDS = 3600
    deposit = fund(user, 10000)
    services.withdrawal_create(
        user=user,
        amount_minor=7000,
        currency="ZAR",
        bank_details=BANK_SNAKE,
        idempotency_key="spend",
    )
    assert balance(user) == 3000
    entries_before = LedgerEntry.objects.count()

    with django_capture_on_commit_callbacks(execute=True):
        delivery = charged_back(deposit, 10000, refused=InsufficientFundsError)

    assert delivery.state == DeliveryState.FAILED
    assert delivery.attempts == 1
    assert "InsufficientFunds" in delivery.last_error
    # The whole of it rolled back: the order, the payment record, the wallet.
    order = order_of(deposit)
    assert (order.status, order.refunded_minor) == (OrderStatus.PAID, 0)
    assert not PaymentTransaction.objects.filter(kind="chargeback").exists()
    assert not WalletTransaction.objects.filter(kind="chargeback").exists()
    assert balance(user) == 3000
    assert LedgerEntry.objects.count() == entries_before
    assert services.ledger_check().ok


def test_a_deposit_never_paid_expires_and_the_payer_is_told(
    user: Any, django_capture_on_commit_callbacks: Any
) -> None:
    tx = services.deposit_create(
        user=user, amount_minor=5000, currency="ZAR", idempotency_key="never-paid"
    )
    purchase_id = order_of(tx).provider_purchase_id
    SandboxPurchase.objects.filter(pk=str(purchase_id)).update(
        due=timezone.now() - timedelta(seconds=1)
    )

    sandbox.purchase_expire_if_due(purchase_id=purchase_id)
    with django_capture_on_commit_callbacks(execute=True):
        assert len(deliver_sandbox_webhooks(str(purchase_id))) == 1

    tx.refresh_from_db()
    assert tx.status == "expired"
    assert order_of(tx).status == OrderStatus.EXPIRED
    assert balance(user) == 0
    assert LedgerEntry.objects.count() == 0
    assert AuditLog.objects.filter(action="wallet.deposit.expired", target_id=str(tx.pk)).exists()
    notice = Notification.objects.get(user=user, kind="wallet.deposit_failed")
    assert notice.title == "Deposit not completed"
    assert "50.00" in notice.body
    assert emails_to(user) == [f"Your deposit of {FIFTY} did not go through"]


def test_a_deposit_paid_with_a_failing_card_fails_and_the_payer_is_told_with_the_reason(
    user: Any, django_capture_on_commit_callbacks: Any
) -> None:
    tx = services.deposit_create(
        user=user, amount_minor=5000, currency="ZAR", idempotency_key="declined"
    )
    purchase_id = order_of(tx).provider_purchase_id

    sandbox.purchase_act(purchase_id=purchase_id, action="fail")
    with django_capture_on_commit_callbacks(execute=True):
        deliver_sandbox_webhooks(str(purchase_id))

    tx.refresh_from_db()
    assert tx.status == "failed"
    assert tx.failure_reason
    assert AuditLog.objects.filter(action="wallet.deposit.failed", target_id=str(tx.pk)).exists()
    assert kinds_told(user) == ["wallet.deposit_failed"]
    [email] = [m for m in mail.outbox if m.to == [user.email]]
    assert email.subject == f"Your deposit of {FIFTY} did not go through"
    assert f"Reason: {tx.failure_reason}" in email.body


def test_the_reconciliation_expires_deposits_whose_checkout_was_never_made(
    user: Any, settings: Any, django_capture_on_commit_callbacks: Any
) -> None:
    settings.PAYMENTS_PROVIDER = "revio"
    settings.REVIO_API_URL = "http://127.0.0.1:9/"  # nothing listens: the gateway is down
    settings.REVIO_TIMEOUT_SECONDS = 2.0
    for key in ("stale", "recent"):
        with pytest.raises(PaymentProviderUnavailableError):
            services.deposit_create(
                user=user, amount_minor=5000, currency="ZAR", idempotency_key=key
            )
    settings.PAYMENTS_PROVIDER = "sandbox"
    with_checkout = services.deposit_create(
        user=user, amount_minor=5000, currency="ZAR", idempotency_key="with-checkout"
    )
    an_hour_ago = timezone.now() - timedelta(seconds=settings.WALLET_RECONCILE_AFTER_SECONDS + 1)
    WalletTransaction.objects.exclude(idempotency_key="recent").update(created_at=an_hour_ago)

    with django_capture_on_commit_callbacks(execute=True):
        assert services.wallet_reconcile() == 1
    assert services.wallet_reconcile() == 0

    statuses = dict(WalletTransaction.objects.values_list("idempotency_key", "status"))
    assert statuses == {"stale": "expired", "recent": "pending", "with-checkout": "pending"}
    stale = WalletTransaction.objects.get(idempotency_key="stale")
    assert stale.payment_order_id is None
    assert (
        AuditLog.objects.filter(action="wallet.deposit.expired", target_id=str(stale.pk)).count()
        == 1
    )
    assert Notification.objects.filter(user=user, kind="wallet.deposit_failed").count() == 1
    with_checkout.refresh_from_db()
    assert with_checkout.checkout_url


def test_withdrawals_leave_audit_records_and_their_outcome_is_emailed(
    user: Any, settings: Any, sandbox_wire: None, django_capture_on_commit_callbacks: Any
) -> None:
    fund(user, 20000)
    mail.outbox.clear()
    settings.PAYMENTS_SANDBOX_PAYOUT_DELAY_SECONDS = 3600
    with django_capture_on_commit_callbacks(execute=True):
        paid_out = services.withdrawal_create(
            user=user,
            amount_minor=4000,
            currency="ZAR",
            bank_details=BANK_SNAKE,
            idempotency_key="w-ok",
        )
    SandboxPayout.objects.update(settle_at=timezone.now())
    with django_capture_on_commit_callbacks(execute=True):
        payments.payments_sweep()
    settings.PAYMENTS_SANDBOX_PAYOUT_DELAY_SECONDS = 0
    with django_capture_on_commit_callbacks(execute=True):
        returned = services.withdrawal_create(
            user=user,
            amount_minor=3000,
            currency="ZAR",
            bank_details={**BANK_SNAKE, "account_number": "0000000000"},
            idempotency_key="w-bad",
        )

    paid_out.refresh_from_db()
    returned.refresh_from_db()
    assert (paid_out.status, returned.status) == ("completed", "failed")
    assert balance(user) == 16000

    def actions(tx: WalletTransaction) -> list[str]:
        return sorted(
            AuditLog.objects.filter(target_id=str(tx.pk)).values_list("action", flat=True)
        )

    assert actions(paid_out) == ["wallet.withdrawal.completed", "wallet.withdrawal.created"]
    assert actions(returned) == ["wallet.withdrawal.created", "wallet.withdrawal.failed"]
    created = AuditLog.objects.get(target_id=str(paid_out.pk), action="wallet.withdrawal.created")
    assert created.actor_id == user.pk
    assert "1234567890" not in str(created.changes)
    failed = AuditLog.objects.get(target_id=str(returned.pk), action="wallet.withdrawal.failed")
    assert failed.changes == {"reason": returned.failure_reason}

    # The deposit that funded the wallet is told too: its notice was still due (the test's
    # transaction never committed it), and the next notices drain sends whatever is due.
    assert sorted(emails_to(user)) == [
        f"Your deposit of {in_subject(20000)} arrived",
        f"Your withdrawal of {in_subject(3000)} failed",
        f"Your withdrawal of {in_subject(4000)} was paid out",
    ]
    assert sorted(
        Delivery.objects.filter(user=user, channel="email").values_list("kind", "status")
    ) == [
        ("wallet.deposit_completed", "sent"),
        ("wallet.withdrawal_completed", "sent"),
        ("wallet.withdrawal_failed", "sent"),
    ]
