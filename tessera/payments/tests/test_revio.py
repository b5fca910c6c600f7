"""The Revio adapter over real HTTP against a fake Revio on loopback (fake_revio.py), and the
payments layer on top of it: orders, webhooks, reconciliation, refunds, payouts."""

from __future__ import annotations

from collections.abc import Iterator
from datetime import timedelta
from typing import Any

import pytest
from django.utils import timezone

from tessera.payments import services
from tessera.payments.errors import PaymentProviderRefusedError, PaymentProviderUnavailableError
from tessera.payments.models import (
    DeliveryState,
    OrderStatus,
    PaymentOrder,
    PaymentTransaction,
    Payout,
    PayoutStatus,
    WebhookDelivery,
)
from tessera.payments.tests.fake_revio import API_KEY, BRAND_ID, FakeRevio, fake_revio
from tessera.payments.tests.helpers import TEST_PURPOSE, RecordingHandler, post_webhook

pytestmark = pytest.mark.django_db

BANK = {"account_holder": "Ada Lovelace", "account_number": "62012345678", "bank_code": "250655"}


@pytest.fixture
def revio(settings: Any) -> Iterator[FakeRevio]:
    with fake_revio() as fake:
        settings.PAYMENTS_PROVIDER = "revio"
        settings.REVIO_API_URL = fake.base_url
        settings.REVIO_API_KEY = API_KEY
        settings.REVIO_BRAND_ID = BRAND_ID
        settings.REVIO_WEBHOOK_PUBLIC_KEY = fake.public_pem
        settings.REVIO_TIMEOUT_SECONDS = 1.0
        yield fake


def _order(user: Any, key: str = "k1", amount: int = 15000) -> PaymentOrder:
    return services.payment_order_create(
        owner_id=user.pk,
        purpose=TEST_PURPOSE,
        reference="thing-1",
        amount_minor=amount,
        currency="ZAR",
        description="Jazz night",
        success_url="https://shop.example/ok",
        failure_url="https://shop.example/no",
        idempotency_key=key,
    )


def test_an_order_makes_one_purchase_at_revio_in_its_format(
    revio: FakeRevio, user: Any, handler: RecordingHandler
) -> None:
    order = _order(user)

    assert order.status == OrderStatus.PENDING
    assert order.provider == "revio"
    (request,) = revio.requests
    assert (request.method, request.path) == ("POST", "/api/v1/purchases/")
    assert request.headers["authorization"] == f"Bearer {API_KEY}"
    assert request.headers["idempotency-key"] == str(order.pk)
    assert request.json["brand_id"] == BRAND_ID
    assert request.json["reference"] == str(order.pk)
    assert request.json["client"] == {"email": user.email}
    assert request.json["purchase"]["currency"] == "ZAR"
    assert request.json["purchase"]["products"] == [{"name": "Jazz night", "price": 15000}]
    assert request.json["success_redirect"] == "https://shop.example/ok"
    assert request.json["failure_redirect"] == "https://shop.example/no"
    assert request.json["success_callback"] == "http://testserver/webhooks/revio"
    assert request.json["due"] == int(order.expires_at.timestamp())
    assert order.checkout_url == revio.purchases[str(order.provider_purchase_id)]["checkout_url"]
    # The same key again: the same order, no second purchase.
    assert _order(user).pk == order.pk
    assert len(revio.purchases) == 1


def test_a_lost_answer_is_retried_with_the_same_key_and_makes_no_second_purchase(
    revio: FakeRevio, user: Any, handler: RecordingHandler
) -> None:
    revio.stall_next.append(1.5)  # Revio makes the purchase; its answer comes too late

    with pytest.raises(PaymentProviderUnavailableError):
        _order(user)
    order = PaymentOrder.objects.get()
    assert order.status == OrderStatus.CREATED
    assert len(revio.purchases) == 1

    retried = _order(user)
    assert retried.pk == order.pk
    assert retried.status == OrderStatus.PENDING
    assert len(revio.purchases) == 1
    assert retried.provider_purchase_id == next(iter(revio.purchases))


def test_a_server_error_is_503_and_a_refusal_fails_the_order(
    revio: FakeRevio, user: Any, handler: RecordingHandler
) -> None:
    revio.fail_next.append(502)
    with pytest.raises(PaymentProviderUnavailableError):
        _order(user, key="a")
    assert PaymentOrder.objects.get(idempotency_key="a").status == OrderStatus.CREATED
    assert handler.calls == []

    revio.fail_next.append(400)
    with pytest.raises(PaymentProviderRefusedError):
        _order(user, key="b")
    refused = PaymentOrder.objects.get(idempotency_key="b")
    assert refused.status == OrderStatus.FAILED
    assert handler.names() == ["failed"]


def test_a_signed_paid_webhook_pays_the_order_once(
    revio: FakeRevio,
    user: Any,
    handler: RecordingHandler,
    api: Any,
    django_capture_on_commit_callbacks: Any,
) -> None:
    order = _order(user)
    body, signature = revio.webhook("purchase.paid", revio.mark(order.provider_purchase_id, "paid"))

    with django_capture_on_commit_callbacks(execute=True):
        first = post_webhook(api, "revio", body, signature)
        again = post_webhook(api, "revio", body, signature)

    assert first.status_code == 200
    assert again.status_code == 200
    assert again.json()["data"]["duplicate"] is True
    order.refresh_from_db()
    assert order.status == OrderStatus.PAID
    assert handler.names() == ["paid"]
    assert handler.calls[0][1].reference == "thing-1"
    assert WebhookDelivery.objects.filter(state=DeliveryState.PROCESSED).count() == 1
    assert WebhookDelivery.objects.filter(state=DeliveryState.DUPLICATE).count() == 1
    payment = PaymentTransaction.objects.get(order=order)
    assert (payment.kind, payment.amount_minor) == ("payment", 15000)


def test_without_revios_public_key_every_webhook_is_refused(
    revio: FakeRevio, user: Any, handler: RecordingHandler, api: Any, settings: Any
) -> None:
    order = _order(user)
    settings.REVIO_WEBHOOK_PUBLIC_KEY = ""
    body, signature = revio.webhook("purchase.paid", revio.mark(order.provider_purchase_id, "paid"))

    reply = post_webhook(api, "revio", body, signature)

    assert reply.status_code == 401
    assert WebhookDelivery.objects.get().state == DeliveryState.REJECTED


def test_reconciliation_settles_an_order_whose_webhook_never_came(
    revio: FakeRevio, user: Any, handler: RecordingHandler
) -> None:
    paid, abandoned = _order(user, key="paid"), _order(user, key="gone")
    hour_ago = timezone.now() - timedelta(hours=1, minutes=1)
    PaymentOrder.objects.update(created_at=hour_ago, expires_at=hour_ago)
    revio.mark(paid.provider_purchase_id, "paid")  # paid at Revio, webhook lost

    result = services.payments_reconcile()

    assert (result.checked, result.settled, result.errors) == (2, 2, [])
    assert PaymentOrder.objects.get(pk=paid.pk).status == OrderStatus.PAID
    assert PaymentOrder.objects.get(pk=abandoned.pk).status == OrderStatus.EXPIRED
    # The abandoned checkout was cancelled at Revio before the order expired.
    assert revio.purchases[str(abandoned.provider_purchase_id)]["status"] == "cancelled"
    assert sorted(handler.names()) == ["failed", "paid"]


def test_refunds_are_made_at_revio_once_and_their_webhook_changes_nothing(
    revio: FakeRevio,
    user: Any,
    handler: RecordingHandler,
    api: Any,
    django_capture_on_commit_callbacks: Any,
) -> None:
    order = _order(user)
    body, signature = revio.webhook("purchase.paid", revio.mark(order.provider_purchase_id, "paid"))
    with django_capture_on_commit_callbacks(execute=True):
        post_webhook(api, "revio", body, signature)

    services.payment_refund(
        order_id=order.pk, amount_minor=5000, reason="seat", idempotency_key="r1"
    )
    services.payment_refund(
        order_id=order.pk, amount_minor=5000, reason="seat", idempotency_key="r1"
    )

    refund_requests = [r for r in revio.requests if r.path.endswith("/refund/")]
    assert len(refund_requests) == 1
    assert refund_requests[0].json == {"amount": 5000}
    order.refresh_from_db()
    assert (order.status, order.refunded_minor) == (OrderStatus.PARTIALLY_REFUNDED, 5000)
    refund = PaymentTransaction.objects.get(order=order, kind="refund")
    body, signature = revio.signed(
        {
            "event_type": "payment.refunded",
            "id": refund.provider_reference,
            "related_to": {"type": "purchase", "id": order.provider_purchase_id},
            "payment": {"amount": 5000, "currency": "ZAR"},
            "updated_on": revio.tick(),
        }
    )
    with django_capture_on_commit_callbacks(execute=True):
        assert post_webhook(api, "revio", body, signature).status_code == 200
    order.refresh_from_db()
    assert order.refunded_minor == 5000
    assert handler.names() == ["paid", "refunded"]
    assert WebhookDelivery.objects.get(event_type="payment.refunded").outcome.startswith("ignored")


def test_payouts_go_to_revio_with_the_bank_details_and_complete_on_the_webhook(
    revio: FakeRevio,
    user: Any,
    handler: RecordingHandler,
    api: Any,
    django_capture_on_commit_callbacks: Any,
) -> None:
    with django_capture_on_commit_callbacks(execute=True):
        payout = services.payout_create(
            owner_id=user.pk,
            purpose=TEST_PURPOSE,
            reference="w-1",
            amount_minor=5000,
            currency="ZAR",
            bank_details=BANK,
            idempotency_key="w-1",
        )
    payout.refresh_from_db()
    assert payout.status == PayoutStatus.PROCESSING
    (request,) = [r for r in revio.requests if r.path == "/api/v1/payouts"]
    assert request.headers["idempotency-key"] == str(payout.pk)
    assert request.json["amount"] == 5000
    assert request.json["reference"] == str(payout.pk)
    assert request.json["bank_account"]["account_number"] == "62012345678"
    assert "62012345678" not in payout.bank_details_encrypted
    assert payout.bank_details_masked["account_number"] == "•••••••5678"

    remote = revio.payouts[str(payout.provider_payout_id)]
    remote.update(status="success", updated_on=revio.tick())
    body, signature = revio.webhook("payout.success", remote)
    with django_capture_on_commit_callbacks(execute=True):
        assert post_webhook(api, "revio", body, signature).status_code == 200
    payout.refresh_from_db()
    assert payout.status == PayoutStatus.COMPLETED
    assert handler.names() == ["payout_completed"]


def test_a_payout_revio_refuses_fails_and_its_product_hears(
    revio: FakeRevio, user: Any, handler: RecordingHandler, django_capture_on_commit_callbacks: Any
) -> None:
    with django_capture_on_commit_callbacks(execute=True):
        payout = services.payout_create(
            owner_id=user.pk,
            purpose=TEST_PURPOSE,
            reference="w-2",
            amount_minor=5000,
            currency="ZAR",
            bank_details={**BANK, "account_number": "99900000"},
            idempotency_key="w-2",
        )
    payout.refresh_from_db()
    assert payout.status == PayoutStatus.FAILED
    assert "refused" in payout.failure_reason
    assert handler.names() == ["payout_failed"]


def test_reconciliation_reads_a_payout_whose_webhook_never_came(
    revio: FakeRevio, user: Any, handler: RecordingHandler, django_capture_on_commit_callbacks: Any
) -> None:
    with django_capture_on_commit_callbacks(execute=True):
        payout = services.payout_create(
            owner_id=user.pk,
            purpose=TEST_PURPOSE,
            reference="w-3",
            amount_minor=5000,
            currency="ZAR",
            bank_details=BANK,
            idempotency_key="w-3",
        )
    payout.refresh_from_db()
    Payout.objects.update(created_at=timezone.now() - timedelta(hours=2))
    revio.payouts[str(payout.provider_payout_id)].update(status="failed", error="closed account")

    result = services.payments_reconcile()

    assert result.settled == 1
    payout.refresh_from_db()
    assert payout.status == PayoutStatus.FAILED
    assert payout.failure_reason == "closed account"
    assert handler.names() == ["payout_failed"]
