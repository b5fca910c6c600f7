"""Orders, refunds, cancellation, payouts and bank details through the services."""

from __future__ import annotations

from datetime import timedelta
from typing import Any

import pytest
from cryptography.fernet import Fernet
from django.utils import timezone

from tessera.core.errors import InvalidInputError
from tessera.payments import bank, services
from tessera.payments.errors import (
    BankDetailsInvalidError,
    IdempotencyMismatchError,
    PaymentOrderStateError,
    RefundTooLargeError,
)
from tessera.payments.models import (
    DeliveryState,
    OrderStatus,
    PaymentOrder,
    PaymentTransaction,
    Payout,
    WebhookDelivery,
)
from tessera.payments.tests.helpers import (
    TEST_PURPOSE,
    RecordingHandler,
    purchase_body,
    sandbox_sign,
)

pytestmark = pytest.mark.django_db

BANK = {"account_holder": "Ada Lovelace", "account_number": "1234567890", "bank_code": "250655"}


def _order(user: Any, key: str = "k", amount: int = 15000, currency: str = "ZAR") -> PaymentOrder:
    return services.payment_order_create(
        owner_id=user.pk,
        purpose=TEST_PURPOSE,
        reference="thing-1",
        amount_minor=amount,
        currency=currency,
        idempotency_key=key,
    )


def _pay(order: PaymentOrder) -> None:
    """The person pays on the sandbox's page; its webhook arrives and is processed."""
    from tessera.payments import sandbox
    from tessera.payments.models import SandboxWebhook

    sandbox.purchase_act(purchase_id=order.provider_purchase_id, action="pay")
    webhook = SandboxWebhook.objects.filter(object_id=order.provider_purchase_id).latest(
        "created_at"
    )
    receipt = services.webhook_receive(
        provider_name="sandbox",
        body=bytes(webhook.body),
        headers={"X-Signature": webhook.signature},
    )
    services.webhook_process(delivery_id=receipt.delivery_id)


def test_an_order_needs_a_registered_product_a_positive_amount_and_a_known_currency(
    user: Any,
) -> None:
    with pytest.raises(services.UnhandledPurposeError):
        _order(user)
    from tessera.payments import hooks
    from tessera.payments.tests.helpers import RecordingHandler as Handler

    hooks.register(TEST_PURPOSE, Handler())
    try:
        with pytest.raises(ValueError, match="positive"):
            _order(user, amount=0)
        with pytest.raises(InvalidInputError):
            _order(user, currency="XXX")
    finally:
        hooks.unregister(TEST_PURPOSE)


def test_the_same_key_is_the_same_order_and_another_amount_with_it_is_refused(
    user: Any, other_user: Any, handler: RecordingHandler
) -> None:
    order = _order(user)
    assert _order(user).pk == order.pk
    with pytest.raises(IdempotencyMismatchError):
        _order(user, amount=1)
    with pytest.raises(IdempotencyMismatchError):
        services.payment_order_create(
            owner_id=other_user.pk,
            purpose=TEST_PURPOSE,
            reference="thing-1",
            amount_minor=15000,
            currency="ZAR",
            idempotency_key="k",
        )
    assert PaymentOrder.objects.count() == 1


def test_refunds_full_partial_too_large_and_repeated(user: Any, handler: RecordingHandler) -> None:
    order = _order(user)
    with pytest.raises(PaymentOrderStateError):
        services.payment_refund(order_id=order.pk, idempotency_key="too-early")
    _pay(order)

    services.payment_refund(
        order_id=order.pk, amount_minor=5000, reason="one seat", idempotency_key="r1"
    )
    with pytest.raises(RefundTooLargeError):
        services.payment_refund(order_id=order.pk, amount_minor=10001, idempotency_key="r2")
    with pytest.raises(RefundTooLargeError):
        services.payment_refund(order_id=order.pk, amount_minor=0, idempotency_key="r3")
    services.payment_refund(order_id=order.pk, idempotency_key="r4")  # the rest
    services.payment_refund(order_id=order.pk, idempotency_key="r4")  # again: nothing more

    order.refresh_from_db()
    assert (order.status, order.refunded_minor) == (OrderStatus.REFUNDED, 15000)
    refunds = PaymentTransaction.objects.filter(order=order, kind="refund", status="succeeded")
    assert sorted(refunds.values_list("amount_minor", flat=True)) == [5000, 10000]
    events = [event for name, event in handler.calls if name == "refunded"]
    assert [(e.status, e.refund_amount_minor, e.refunded_minor) for e in events] == [
        ("partially_refunded", 5000, 5000),
        ("refunded", 10000, 15000),
    ]
    # The sandbox's own refund webhooks arrive later and change nothing.
    from tessera.payments.models import SandboxWebhook

    for webhook in SandboxWebhook.objects.filter(event_type="payment.refunded"):
        receipt = services.webhook_receive(
            provider_name="sandbox",
            body=bytes(webhook.body),
            headers={"X-Signature": webhook.signature},
        )
        assert services.webhook_process(delivery_id=receipt.delivery_id).startswith("ignored")


def test_cancelling_an_unpaid_order_and_a_paid_one(user: Any, handler: RecordingHandler) -> None:
    unpaid = _order(user, key="a")
    cancelled = services.payment_order_cancel(order_id=unpaid.pk, reason="abandoned")
    assert cancelled.status == OrderStatus.CANCELLED
    assert services.payment_order_cancel(order_id=unpaid.pk).status == OrderStatus.CANCELLED
    assert handler.names() == ["failed"]

    paid = _order(user, key="b")
    _pay(paid)
    with pytest.raises(PaymentOrderStateError):
        services.payment_order_cancel(order_id=paid.pk)


def test_cancelling_an_order_the_person_just_paid_ends_paid(
    user: Any, handler: RecordingHandler
) -> None:
    from tessera.payments import sandbox

    order = _order(user)
    sandbox.purchase_act(purchase_id=order.provider_purchase_id, action="pay")  # webhook not in yet

    result = services.payment_order_cancel(order_id=order.pk)

    assert result.status == OrderStatus.PAID
    assert handler.names() == ["paid"]


def test_payout_idempotency_and_validation(user: Any, handler: RecordingHandler) -> None:
    first = services.payout_create(
        owner_id=user.pk,
        purpose=TEST_PURPOSE,
        reference="w",
        amount_minor=500,
        currency="ZAR",
        bank_details=BANK,
        idempotency_key="w",
    )
    again = services.payout_create(
        owner_id=user.pk,
        purpose=TEST_PURPOSE,
        reference="w",
        amount_minor=500,
        currency="ZAR",
        bank_details=BANK,
        idempotency_key="w",
    )
    assert first.pk == again.pk
    with pytest.raises(IdempotencyMismatchError):
        services.payout_create(
            owner_id=user.pk,
            purpose=TEST_PURPOSE,
            reference="w",
            amount_minor=501,
            currency="ZAR",
            bank_details=BANK,
            idempotency_key="w",
        )
    with pytest.raises(BankDetailsInvalidError):
        services.payout_create(
            owner_id=user.pk,
            purpose=TEST_PURPOSE,
            reference="x",
            amount_minor=500,
            currency="ZAR",
            bank_details={**BANK, "account_number": "12"},
            idempotency_key="x",
        )
    assert Payout.objects.count() == 1
    assert bank.bank_details_decrypt(first.bank_details_encrypted) == BANK


@pytest.mark.parametrize(
    ("details", "fields"),
    [
        ({}, {"bankDetails.accountHolder", "bankDetails.accountNumber", "bankDetails.bankCode"}),
        ({**BANK, "account_holder": "A"}, {"bankDetails.accountHolder"}),
        ({**BANK, "account_holder": "R2D2"}, {"bankDetails.accountHolder"}),
        ({**BANK, "account_number": "12345"}, {"bankDetails.accountNumber"}),
        ({**BANK, "account_number": "12345678901234567890123"}, {"bankDetails.accountNumber"}),
        ({**BANK, "account_number": "1234-abcd"}, {"bankDetails.accountNumber"}),
        ({**BANK, "bank_code": "2!"}, {"bankDetails.bankCode"}),
        ({**BANK, "iban": "GB82WEST12345698765431"}, {"bankDetails.iban"}),  # check digits
        ({**BANK, "iban": "XX00"}, {"bankDetails.iban"}),
        ({**BANK, "country": "ZAF"}, {"bankDetails.country"}),
    ],
)
def test_bank_details_are_refused_naming_each_wrong_field(details: dict, fields: set) -> None:
    with pytest.raises(BankDetailsInvalidError) as refused:
        bank.bank_details_validate(details)
    assert set(refused.value.fields) == fields
    assert refused.value.status_code == 422


def test_bank_details_are_normalised_encrypted_and_masked(settings: Any) -> None:
    details = bank.bank_details_validate(
        {
            "account_holder": "  Amal   Al-Farsi ",
            "account_number": "6201 2345-678",
            "bank_code": "abna0000",
            "iban": "gb82 west 1234 5698 7654 32",
            "bank_name": "West Bank",
        }
    )
    assert details == {
        "account_holder": "Amal Al-Farsi",
        "account_number": "62012345678",
        "bank_code": "ABNA0000",
        "iban": "GB82WEST12345698765432",
        "bank_name": "West Bank",
        "country": "GB",
    }
    old_key, new_key = Fernet.generate_key().decode(), Fernet.generate_key().decode()
    settings.PAYMENTS_ENCRYPTION_KEYS = [old_key]
    token = bank.bank_details_encrypt(details)
    assert "62012345678" not in token
    settings.PAYMENTS_ENCRYPTION_KEYS = [new_key, old_key]  # rotated: the old still decrypts
    assert bank.bank_details_decrypt(token) == details
    settings.PAYMENTS_ENCRYPTION_KEYS = [new_key]
    with pytest.raises(ValueError, match="cannot be decrypted"):
        bank.bank_details_decrypt(token)
    masked = bank.bank_details_mask(details)
    assert masked["account_number"] == "•••••••5678"
    assert masked["iban"] == "GB82••••••••••••••5432"
    assert "62012345678" not in str(masked)


def test_the_sweep_resends_deliveries_whose_task_was_lost(
    user: Any, handler: RecordingHandler, django_capture_on_commit_callbacks: Any
) -> None:
    order = _order(user)
    body = purchase_body(purchase_id=order.provider_purchase_id)
    receipt = services.webhook_receive(
        provider_name="sandbox", body=body, headers={"X-Signature": sandbox_sign(body)}
    )
    # Stored, but its task never ran (the broker was down at commit).
    WebhookDelivery.objects.update(next_attempt_at=timezone.now() - timedelta(minutes=5))

    with django_capture_on_commit_callbacks(execute=True):
        result = services.payments_sweep()

    assert result.webhooks == 1
    assert WebhookDelivery.objects.get(pk=receipt.delivery_id).state == DeliveryState.PROCESSED
    assert handler.names() == ["paid"]


def test_a_duplicate_of_a_stuck_delivery_nudges_it(
    user: Any, handler: RecordingHandler, django_capture_on_commit_callbacks: Any
) -> None:
    order = _order(user)
    body = purchase_body(purchase_id=order.provider_purchase_id)
    services.webhook_receive(
        provider_name="sandbox", body=body, headers={"X-Signature": sandbox_sign(body)}
    )
    WebhookDelivery.objects.update(next_attempt_at=timezone.now() - timedelta(minutes=5))

    with django_capture_on_commit_callbacks(execute=True):
        receipt = services.webhook_receive(
            provider_name="sandbox", body=body, headers={"X-Signature": sandbox_sign(body)}
        )
    assert receipt.duplicate
    assert handler.names() == ["paid"]


def test_reconciliation_expires_orders_that_never_got_a_checkout_and_purges_old_rejects(
    user: Any, handler: RecordingHandler, settings: Any
) -> None:
    order = PaymentOrder.objects.create(
        owner=user,
        purpose=TEST_PURPOSE,
        reference="x",
        idempotency_key="x",
        amount_minor=1,
        currency="ZAR",
        provider="sandbox",
        expires_at=timezone.now(),
    )
    PaymentOrder.objects.update(created_at=timezone.now() - timedelta(hours=2))
    old = WebhookDelivery.objects.create(
        provider="sandbox",
        body=b"x",
        body_sha256="0" * 64,
        signature_verdict="invalid",
        state="rejected",
    )
    WebhookDelivery.objects.filter(pk=old.pk).update(created_at=timezone.now() - timedelta(days=31))

    result = services.payments_reconcile()

    assert (result.checked, result.settled) == (1, 1)
    order.refresh_from_db()
    assert order.status == OrderStatus.EXPIRED
    assert handler.names() == ["failed"]
    assert not WebhookDelivery.objects.filter(pk=old.pk).exists()
