"""The sandbox gateway: its checkout page (en/ar), pay/fail/cancel, its signed webhooks sent
with retries, and its payouts settled after a delay (or failed for the test account)."""

from __future__ import annotations

from datetime import timedelta
from typing import Any

import pytest
from django.utils import timezone

from tessera.notifications.tests.localserver import Reply, local_server
from tessera.payments import sandbox, services
from tessera.payments.models import (
    OrderStatus,
    PaymentOrder,
    PayoutStatus,
    SandboxPayout,
    SandboxPurchase,
    SandboxWebhook,
)
from tessera.payments.providers import signing, wire
from tessera.payments.tasks import sandbox_deliver_webhook
from tessera.payments.tests.helpers import TEST_PURPOSE, RecordingHandler

pytestmark = pytest.mark.django_db

BANK = {"account_holder": "Ada Lovelace", "account_number": "1234567890", "bank_code": "250655"}


@pytest.fixture
def order(user: Any, handler: RecordingHandler) -> PaymentOrder:
    return services.payment_order_create(
        owner_id=user.pk,
        purpose=TEST_PURPOSE,
        reference="thing-1",
        amount_minor=15000,
        currency="ZAR",
        description="Jazz night",
        idempotency_key="k",
    )


def _path(order: PaymentOrder) -> str:
    return order.checkout_url.replace("http://testserver", "")


def test_the_checkout_page_shows_the_amount_in_english_and_arabic(
    client: Any, order: PaymentOrder
) -> None:
    english = client.get(_path(order))
    arabic = client.get(_path(order) + "?lang=ar")

    assert english.status_code == 200
    page = english.content.decode()
    for expected in (
        'dir="ltr"',
        "Jazz night",
        "ZAR",
        'value="pay"',
        'value="fail"',
        'value="cancel"',
    ):
        assert expected in page
    arabic_page = arabic.content.decode()
    assert 'dir="rtl"' in arabic_page
    assert 'lang="ar"' in arabic_page
    assert "ZAR" in arabic_page


def test_paying_sends_a_webhook_signed_in_revios_format_and_the_order_is_paid(
    client: Any,
    order: PaymentOrder,
    handler: RecordingHandler,
    sandbox_wire: None,
    django_capture_on_commit_callbacks: Any,
) -> None:
    with django_capture_on_commit_callbacks(execute=True):
        reply = client.post(_path(order), {"action": "pay"})

    assert reply.status_code == 200
    assert "Paid" in reply.content.decode()
    webhook = SandboxWebhook.objects.get()
    assert webhook.delivered_at is not None
    assert webhook.attempts == 1
    public = signing.public_key_from_pem(sandbox.public_key_pem())
    signing.verify(bytes(webhook.body), webhook.signature, public)
    event = wire.parse_webhook(
        bytes(webhook.body), names=wire.event_names({"paid": "purchase.paid"})
    )
    assert (event.status, event.object_id, event.reference) == (
        "paid",
        order.provider_purchase_id,
        str(order.pk),
    )
    order.refresh_from_db()
    assert order.status == OrderStatus.PAID
    assert handler.names() == ["paid"]


@pytest.mark.parametrize(
    ("action", "status", "hook"), [("fail", "failed", "failed"), ("cancel", "cancelled", "failed")]
)
def test_failing_or_cancelling_closes_the_order(
    *,
    client: Any,
    order: PaymentOrder,
    handler: RecordingHandler,
    sandbox_wire: None,
    django_capture_on_commit_callbacks: Any,
    action: str,
    status: str,
    hook: str,
) -> None:
    with django_capture_on_commit_callbacks(execute=True):
        assert client.post(_path(order), {"action": action}).status_code == 200
    order.refresh_from_db()
    assert order.status == status
    assert handler.names() == [hook]
    # Paying a closed checkout is refused; doing the same again changes nothing.
    assert client.post(_path(order), {"action": "pay"}).status_code == 409
    assert client.post(_path(order), {"action": action}).status_code == 200
    assert SandboxWebhook.objects.count() == 1


def test_the_person_is_sent_back_to_the_products_urls(
    user: Any, handler: RecordingHandler, client: Any
) -> None:
    order = services.payment_order_create(
        owner_id=user.pk,
        purpose=TEST_PURPOSE,
        reference="r",
        amount_minor=100,
        currency="ZAR",
        success_url="https://shop.example/ok",
        failure_url="https://shop.example/no",
        idempotency_key="k2",
    )
    paid = client.post(_path(order), {"action": "pay"})
    assert (paid.status_code, paid["Location"]) == (303, "https://shop.example/ok")


def test_bad_actions_unknown_checkouts_and_other_providers(
    client: Any, order: PaymentOrder, settings: Any
) -> None:
    assert client.post(_path(order), {"action": "steal"}).status_code == 400
    assert client.get("/sandbox/checkout/not-a-uuid").status_code == 404
    assert client.get("/sandbox/checkout/00000000-0000-0000-0000-000000000000").status_code == 404
    assert client.put(_path(order)).status_code == 405
    settings.PAYMENTS_PROVIDER = "revio"
    assert client.get(_path(order)).status_code == 404


def test_an_expired_checkout_cannot_be_paid(
    client: Any, order: PaymentOrder, handler: RecordingHandler
) -> None:
    SandboxPurchase.objects.update(due=timezone.now() - timedelta(seconds=1))
    reply = client.post(_path(order), {"action": "pay"})
    assert reply.status_code == 200
    assert SandboxPurchase.objects.get().status == "expired"
    assert SandboxWebhook.objects.get().event_type == "purchase.expired"


def test_webhooks_are_resent_with_backoff_until_taken(order: PaymentOrder) -> None:
    with local_server([Reply(503), Reply(500), Reply(200, b"{}")]) as receiver:
        SandboxPurchase.objects.update(callback_url=f"{receiver.base_url}/webhooks/sandbox")
        purchase = sandbox.purchase_act(purchase_id=order.provider_purchase_id, action="pay")
        webhook = SandboxWebhook.objects.get()
        for _ in range(2):
            with pytest.raises(sandbox.SandboxDeliveryError):
                sandbox.webhook_deliver(webhook_id=webhook.pk)
        webhook.refresh_from_db()
        assert webhook.attempts == 2
        assert webhook.next_attempt_at is not None
        assert webhook.next_attempt_at > timezone.now() + timedelta(seconds=3)  # 2**2 s
        assert sandbox.webhook_deliver(webhook_id=webhook.pk) is True
    assert purchase.status == "paid"
    assert [r.body for r in receiver.requests] == [bytes(webhook.body)] * 3
    assert {r.headers["x-signature"] for r in receiver.requests} == {webhook.signature}
    webhook.refresh_from_db()
    assert (webhook.attempts, webhook.last_status) == (3, 200)
    assert sandbox.webhook_deliver(webhook_id=webhook.pk) is True  # not sent again
    assert len(receiver.requests) == 3


def test_the_delivery_task_retries_on_its_own_and_gives_up_at_the_limit(
    order: PaymentOrder, settings: Any
) -> None:
    settings.PAYMENTS_SANDBOX_WEBHOOK_MAX_ATTEMPTS = 2
    with local_server([Reply(500)]) as receiver:
        SandboxPurchase.objects.update(callback_url=f"{receiver.base_url}/hook")
        sandbox.purchase_act(purchase_id=order.provider_purchase_id, action="pay")
        webhook = SandboxWebhook.objects.get()
        from celery.exceptions import Retry

        with pytest.raises(Retry):
            sandbox_deliver_webhook.apply(kwargs={"webhook_id": str(webhook.pk)}, throw=True)
        assert sandbox_deliver_webhook.apply(kwargs={"webhook_id": str(webhook.pk)}).get() is False
    webhook.refresh_from_db()
    assert (webhook.attempts, webhook.gave_up) == (2, True)


def test_payouts_settle_after_the_delay_and_the_test_account_fails(
    user: Any,
    handler: RecordingHandler,
    settings: Any,
    sandbox_wire: None,
    django_capture_on_commit_callbacks: Any,
) -> None:
    settings.PAYMENTS_SANDBOX_PAYOUT_DELAY_SECONDS = 3600
    with django_capture_on_commit_callbacks(execute=True):
        ok = services.payout_create(
            owner_id=user.pk,
            purpose=TEST_PURPOSE,
            reference="a",
            amount_minor=100,
            currency="ZAR",
            bank_details=BANK,
            idempotency_key="a",
        )
        bad = services.payout_create(
            owner_id=user.pk,
            purpose=TEST_PURPOSE,
            reference="b",
            amount_minor=100,
            currency="ZAR",
            bank_details={**BANK, "account_number": "0000000000"},
            idempotency_key="b",
        )
    assert SandboxPayout.objects.filter(status="pending").count() == 2  # not due yet
    ok.refresh_from_db()
    assert ok.status == PayoutStatus.PROCESSING

    SandboxPayout.objects.update(settle_at=timezone.now())
    with django_capture_on_commit_callbacks(execute=True):
        result = services.payments_sweep()
    assert result.sandbox_payouts == 2
    ok.refresh_from_db()
    bad.refresh_from_db()
    assert (ok.status, bad.status) == (PayoutStatus.COMPLETED, PayoutStatus.FAILED)
    assert "failing test account" in bad.failure_reason
    assert sorted(handler.names()) == ["payout_completed", "payout_failed"]


def test_the_sandbox_signing_key_comes_from_the_environment_when_set(settings: Any) -> None:
    key = signing.generate_private_key()
    settings.PAYMENTS_SANDBOX_PRIVATE_KEY = signing.private_pem(key)
    assert sandbox.public_key_pem() == signing.public_pem(key)
    body = b'{"x": 1}'
    signing.verify(body, sandbox.sign(body), key.public_key())


def test_the_sandbox_public_key_is_its_private_keys_and_follows_a_changed_key(
    settings: Any,
) -> None:
    first, second = signing.generate_private_key(), signing.generate_private_key()
    settings.PAYMENTS_SANDBOX_PRIVATE_KEY = signing.private_pem(first)
    body = b'{"purchase": "p1"}'

    derived = sandbox.public_key_pem()

    assert derived == signing.public_pem(first)
    signing.verify(body, sandbox.sign(body), signing.public_key_from_pem(derived))
    assert sandbox.public_key_pem() is derived  # derived once per key text
    settings.PAYMENTS_SANDBOX_PRIVATE_KEY = signing.private_pem(second)
    assert sandbox.public_key_pem() == signing.public_pem(second) != derived
    with pytest.raises(signing.SignatureError):
        signing.verify(body, sandbox.sign(body), signing.public_key_from_pem(derived))
