"""The webhook inbox over HTTP: every delivery kept, forged/unsigned/stale refused, duplicates
acknowledged and not processed, events out of order ending in the right state, failures
retried and dead-lettered, replayed from the admin."""

from __future__ import annotations

import time
from typing import Any

import orjson
import pytest
from celery.exceptions import Retry
from django.test import override_settings

from tessera.payments import services
from tessera.payments.models import (
    DeliveryState,
    OrderStatus,
    PaymentOrder,
    Payout,
    PayoutStatus,
    SignatureVerdict,
    WebhookDelivery,
)
from tessera.payments.tasks import process_webhook
from tessera.payments.tests.helpers import (
    TEST_PURPOSE,
    RecordingHandler,
    payout_body,
    post_webhook,
    purchase_body,
    refund_body,
    sandbox_sign,
)

pytestmark = pytest.mark.django_db


@pytest.fixture
def order(user: Any, handler: RecordingHandler) -> PaymentOrder:
    return services.payment_order_create(
        owner_id=user.pk,
        purpose=TEST_PURPOSE,
        reference="thing-1",
        amount_minor=15000,
        currency="ZAR",
        idempotency_key="k",
    )


def _paid(order: PaymentOrder, **kwargs: Any) -> bytes:
    return purchase_body(purchase_id=order.provider_purchase_id, **kwargs)


def _deliver(api: Any, body: bytes, capture: Any, signature: str | None = "sign") -> Any:
    with capture(execute=True):
        return post_webhook(
            api, "sandbox", body, sandbox_sign(body) if signature == "sign" else signature
        )


def test_a_valid_delivery_is_stored_raw_processed_and_acknowledged(
    api: Any,
    order: PaymentOrder,
    handler: RecordingHandler,
    django_capture_on_commit_callbacks: Any,
) -> None:
    body = _paid(order)
    reply = _deliver(api, body, django_capture_on_commit_callbacks)

    assert reply.status_code == 200
    payload = reply.json()
    assert payload["status"] == "success"
    delivery = WebhookDelivery.objects.get(pk=payload["data"]["deliveryId"])
    assert bytes(delivery.body) == body
    assert delivery.headers["X-Signature"] == sandbox_sign(body)
    assert (delivery.signature_verdict, delivery.state) == ("valid", "processed")
    assert delivery.event_type == "purchase.paid"
    assert delivery.processed_at is not None
    order.refresh_from_db()
    assert order.status == OrderStatus.PAID
    assert handler.names() == ["paid"]


@pytest.mark.parametrize(
    ("signature", "status", "code", "verdict"),
    [
        (None, 401, "webhook_signature_missing", SignatureVerdict.MISSING),
        ("AAAA", 401, "webhook_signature_invalid", SignatureVerdict.INVALID),
        ("%%% not base64", 400, "webhook_malformed", SignatureVerdict.MALFORMED),
        ("other-body", 401, "webhook_signature_invalid", SignatureVerdict.INVALID),
    ],
)
def test_unsigned_and_forged_deliveries_are_refused_and_kept(
    *,
    api: Any,
    order: PaymentOrder,
    handler: RecordingHandler,
    signature: str | None,
    status: int,
    code: str,
    verdict: str,
) -> None:
    body = _paid(order)
    if signature == "other-body":
        signature = sandbox_sign(_paid(order, total=1))
    reply = post_webhook(api, "sandbox", body, signature)

    assert reply.status_code == status
    assert reply.json()["error"]["code"] == code
    delivery = WebhookDelivery.objects.get()
    assert (delivery.state, delivery.signature_verdict, delivery.accepted) == (
        DeliveryState.REJECTED,
        verdict,
        False,
    )
    assert bytes(delivery.body) == body
    order.refresh_from_db()
    assert order.status == OrderStatus.PENDING
    assert handler.calls == []


@pytest.mark.parametrize("age", [3 * 24 * 3600, -3600])
def test_stale_or_future_dated_deliveries_are_refused(
    api: Any, order: PaymentOrder, handler: RecordingHandler, age: int
) -> None:
    body = _paid(order, updated_on=int(time.time()) - age)
    reply = post_webhook(api, "sandbox", body, sandbox_sign(body))
    assert reply.status_code == 400
    assert reply.json()["error"]["code"] == "webhook_stale"
    assert WebhookDelivery.objects.get().signature_verdict == SignatureVerdict.STALE
    assert handler.calls == []


def test_a_signed_body_that_is_not_an_event_is_400(api: Any, handler: RecordingHandler) -> None:
    for body in (b"not json", orjson.dumps({"hello": "world"})):
        reply = post_webhook(api, "sandbox", body, sandbox_sign(body))
        assert reply.status_code == 400
        assert reply.json()["error"]["code"] == "webhook_malformed"
    assert WebhookDelivery.objects.filter(state=DeliveryState.REJECTED).count() == 2


def test_unknown_provider_wrong_method_and_oversized_bodies(api: Any, settings: Any) -> None:
    assert (
        api.post("/webhooks/stripe", data=b"{}", content_type="application/json").status_code == 404
    )
    assert (
        api.post("/webhooks/revio", data=b"{}", content_type="application/json").status_code == 404
    )
    wrong = api.get("/webhooks/sandbox")
    assert (wrong.status_code, wrong["Allow"]) == (405, "POST")
    settings.API_MAX_BODY_BYTES = 100
    big = api.post(
        "/webhooks/sandbox", data=b"{" + b" " * 200 + b"}", content_type="application/json"
    )
    assert big.status_code == 413
    assert WebhookDelivery.objects.count() == 0


@pytest.fixture
def _fresh_limiter() -> Any:
    from tessera.core import ratelimit

    ratelimit.limiter.cache_clear()
    yield
    ratelimit.limiter.cache_clear()


@pytest.mark.usefixtures("_fresh_limiter")
@override_settings(RATE_LIMIT_DEFAULT="2/minute", CORS_ALLOWED_ORIGINS=["https://app.example"])
def test_a_delivery_takes_the_api_chain_without_browser_middleware_or_the_rate_limit(
    api: Any, user: Any, handler: RecordingHandler, django_capture_on_commit_callbacks: Any
) -> None:
    """Decision 0039: request id, security headers and the envelope as on the API; no
    session, CSRF or CORS; a gateway's burst from one address is not refused (the per-IP
    limit of 2 a minute would refuse the third)."""
    orders = [
        services.payment_order_create(
            owner_id=user.pk,
            purpose=TEST_PURPOSE,
            reference=f"burst-{n}",
            amount_minor=15000,
            currency="ZAR",
            idempotency_key=f"burst-{n}",
        )
        for n in range(4)
    ]
    replies = []
    for order in orders:
        body = _paid(order)
        with django_capture_on_commit_callbacks(execute=True):
            replies.append(
                api.post(
                    "/webhooks/sandbox",
                    data=body,
                    content_type="application/json",
                    HTTP_X_SIGNATURE=sandbox_sign(body),
                    HTTP_X_REQUEST_ID="gateway-42",
                    HTTP_ORIGIN="https://app.example",
                )
            )

    assert [reply.status_code for reply in replies] == [200, 200, 200, 200]
    reply = replies[-1]
    assert reply["X-Request-ID"] == "gateway-42"
    assert reply["X-Content-Type-Options"] == "nosniff"
    assert reply["Referrer-Policy"] == "strict-origin-when-cross-origin"
    assert "Access-Control-Allow-Origin" not in reply
    assert not reply.cookies  # no session, no CSRF cookie
    assert "X-Frame-Options" not in reply  # the HTML list's clickjacking header
    assert handler.names() == ["paid"] * 4
    unknown = api.post("/webhooks/sandbox/extra/path", data=b"{}", content_type="application/json")
    assert unknown.status_code == 404
    assert unknown.json()["status"] == "error"
    assert unknown["X-Request-ID"]
    pings = [api.get("/api/ping").status_code for _ in range(3)]
    assert pings == [200, 200, 429]  # the API's own limit still counts


def test_a_replayed_event_is_acknowledged_and_not_processed_again(
    api: Any,
    order: PaymentOrder,
    handler: RecordingHandler,
    django_capture_on_commit_callbacks: Any,
) -> None:
    body = _paid(order)
    first = _deliver(api, body, django_capture_on_commit_callbacks)
    again = _deliver(api, body, django_capture_on_commit_callbacks)
    # The same event re-serialised (other key order): the same event id.
    reordered = orjson.dumps(dict(reversed(list(orjson.loads(body).items()))))
    third = _deliver(api, reordered, django_capture_on_commit_callbacks)

    assert [r.status_code for r in (first, again, third)] == [200, 200, 200]
    assert [r.json()["data"]["duplicate"] for r in (first, again, third)] == [False, True, True]
    original = WebhookDelivery.objects.get(pk=first.json()["data"]["deliveryId"])
    duplicates = WebhookDelivery.objects.filter(state=DeliveryState.DUPLICATE)
    assert {d.duplicate_of_id for d in duplicates} == {original.pk}
    assert handler.names() == ["paid"]


def test_paid_after_failed_ends_paid_and_failed_after_paid_changes_nothing(
    api: Any,
    order: PaymentOrder,
    handler: RecordingHandler,
    django_capture_on_commit_callbacks: Any,
) -> None:
    now = int(time.time())
    failed = _paid(
        order, event_type="purchase.payment_failure", status="error", updated_on=now - 10
    )
    paid = _paid(order, updated_on=now - 5)
    late_failure = _paid(
        order, event_type="purchase.payment_failure", status="error", updated_on=now
    )

    for body in (failed, paid, late_failure):
        assert _deliver(api, body, django_capture_on_commit_callbacks).status_code == 200

    order.refresh_from_db()
    assert order.status == OrderStatus.PAID
    assert handler.names() == ["failed", "paid"]
    assert handler.calls[1][1].previous_status == "failed"
    last = WebhookDelivery.objects.get(body_sha256__isnull=False, event_id__endswith=f":{now}")
    assert (last.state, last.outcome) == (
        DeliveryState.IGNORED,
        f"ignored: order {order.pk} is already paid",
    )


def test_a_paid_event_for_another_amount_is_dead_lettered_not_credited(
    api: Any,
    order: PaymentOrder,
    handler: RecordingHandler,
    django_capture_on_commit_callbacks: Any,
    settings: Any,
) -> None:
    settings.PAYMENTS_WEBHOOK_MAX_ATTEMPTS = 1
    reply = _deliver(api, _paid(order, total=1), django_capture_on_commit_callbacks)

    assert reply.status_code == 200
    delivery = WebhookDelivery.objects.get()
    assert (delivery.state, delivery.attempts) == (DeliveryState.FAILED, 1)
    assert "EventMismatchError" in delivery.last_error
    order.refresh_from_db()
    assert order.status == OrderStatus.PENDING
    assert handler.calls == []


def test_an_unknown_purchase_is_retried_then_dead_lettered_and_replay_processes_it(
    *,
    api: Any,
    user: Any,
    handler: RecordingHandler,
    django_capture_on_commit_callbacks: Any,
    settings: Any,
    order: PaymentOrder,
) -> None:
    settings.PAYMENTS_WEBHOOK_MAX_ATTEMPTS = 2
    body = purchase_body(purchase_id="00000000-0000-0000-0000-000000000000")
    assert _deliver(api, body, django_capture_on_commit_callbacks).status_code == 200
    delivery = WebhookDelivery.objects.get()
    assert (delivery.state, delivery.attempts) == (DeliveryState.RECEIVED, 1)
    assert delivery.next_attempt_at is not None  # a worker retries it after the backoff
    with pytest.raises(services.UnknownObjectError):
        process_webhook.apply(kwargs={"delivery_id": str(delivery.pk)}, throw=True)
    delivery.refresh_from_db()
    assert (delivery.state, delivery.attempts) == (DeliveryState.FAILED, 2)
    assert "UnknownObjectError" in delivery.last_error

    # An operator finds the purchase was ours under another id and fixes it; replay.
    PaymentOrder.objects.filter(pk=order.pk).update(
        provider_purchase_id="00000000-0000-0000-0000-000000000000"
    )
    with django_capture_on_commit_callbacks(execute=True):
        assert services.webhook_replay(delivery_ids=[delivery.pk], actor=user) == 1
    delivery.refresh_from_db()
    assert delivery.state == DeliveryState.PROCESSED
    assert handler.names() == ["paid"]
    assert services.webhook_replay(delivery_ids=[delivery.pk], actor=user) == 0


def test_a_product_failing_rolls_the_payment_back_and_the_retry_applies_it_once(
    api: Any, order: PaymentOrder, handler: RecordingHandler
) -> None:
    body = _paid(order)
    receipt = services.webhook_receive(
        provider_name="sandbox", body=body, headers={"X-Signature": sandbox_sign(body)}
    )
    handler.fail_with = RuntimeError("the product's database said no")
    with pytest.raises(RuntimeError):
        services.webhook_process(delivery_id=receipt.delivery_id)
    retry_in = services.webhook_record_failure(
        delivery_id=receipt.delivery_id, error=RuntimeError("no")
    )
    assert retry_in is not None
    assert 0 < retry_in <= 2
    order.refresh_from_db()
    assert order.status == OrderStatus.PENDING  # rolled back with the handler

    handler.fail_with = None
    assert services.webhook_process(delivery_id=receipt.delivery_id).startswith("order")
    assert services.webhook_process(delivery_id=receipt.delivery_id) == "already processed"
    order.refresh_from_db()
    assert order.status == OrderStatus.PAID
    assert handler.names() == ["paid"]


def test_the_task_retries_then_dead_letters(
    order: PaymentOrder, handler: RecordingHandler, settings: Any
) -> None:
    settings.PAYMENTS_WEBHOOK_MAX_ATTEMPTS = 3
    handler.fail_with = RuntimeError("down")
    body = _paid(order)
    receipt = services.webhook_receive(
        provider_name="sandbox", body=body, headers={"X-Signature": sandbox_sign(body)}
    )
    for attempt in (1, 2):
        with pytest.raises(Retry):
            process_webhook.apply(kwargs={"delivery_id": str(receipt.delivery_id)}, throw=True)
        delivery = WebhookDelivery.objects.get()
        assert (delivery.state, delivery.attempts) == (DeliveryState.RECEIVED, attempt)
    with pytest.raises(RuntimeError, match="down"):
        process_webhook.apply(kwargs={"delivery_id": str(receipt.delivery_id)}, throw=True)
    delivery = WebhookDelivery.objects.get()
    assert (delivery.state, delivery.attempts) == (DeliveryState.FAILED, 3)
    assert delivery.last_error == "RuntimeError: down"


def test_a_payout_completed_before_its_submission_returned_ends_completed(
    user: Any,
    handler: RecordingHandler,
    api: Any,
    django_capture_on_commit_callbacks: Any,
    settings: Any,
) -> None:
    payout = services.payout_create(
        owner_id=user.pk,
        purpose=TEST_PURPOSE,
        reference="w-1",
        amount_minor=5000,
        currency="ZAR",
        bank_details={
            "account_holder": "Ada Lovelace",
            "account_number": "1234567890",
            "bank_code": "250655",
        },
        idempotency_key="w-1",
    )  # its submission task has not run (no commit callbacks here)
    body = payout_body(payout_id="gateway-payout-9", reference=str(payout.pk), amount=5000)
    assert _deliver(api, body, django_capture_on_commit_callbacks).status_code == 200

    payout.refresh_from_db()
    assert (payout.status, payout.provider_payout_id) == (
        PayoutStatus.COMPLETED,
        "gateway-payout-9",
    )
    assert handler.names() == ["payout_completed"]
    # The submission finally runs: nothing is sent twice, nothing changes.
    assert services.payout_submit(payout_id=payout.pk).status == PayoutStatus.COMPLETED
    failed_late = payout_body(
        payout_id="gateway-payout-9",
        reference=str(payout.pk),
        event_type="payout.failed",
        status="failed",
        amount=5000,
    )
    settings.PAYMENTS_WEBHOOK_MAX_ATTEMPTS = 1
    assert _deliver(api, failed_late, django_capture_on_commit_callbacks).status_code == 200
    assert Payout.objects.get().status == PayoutStatus.COMPLETED
    # Failed after it completed: a person must look (a dead letter), nothing is given back.
    conflict = WebhookDelivery.objects.get(event_type="payout.failed")
    assert conflict.state == DeliveryState.FAILED
    assert "EventMismatchError" in conflict.last_error
    assert handler.names() == ["payout_completed"]


def test_a_refund_before_the_payment_waits_for_it(
    api: Any,
    order: PaymentOrder,
    handler: RecordingHandler,
    django_capture_on_commit_callbacks: Any,
    settings: Any,
) -> None:
    refund = refund_body(refund_id="rf-1", purchase_id=order.provider_purchase_id, amount=5000)
    receipt = services.webhook_receive(
        provider_name="sandbox", body=refund, headers={"X-Signature": sandbox_sign(refund)}
    )
    with pytest.raises(services.NotYetApplicableError):
        services.webhook_process(delivery_id=receipt.delivery_id)

    _deliver(api, _paid(order), django_capture_on_commit_callbacks)
    services.webhook_process(delivery_id=receipt.delivery_id)

    order.refresh_from_db()
    assert (order.status, order.refunded_minor) == (OrderStatus.PARTIALLY_REFUNDED, 5000)
    assert handler.names() == ["paid", "refunded"]
    assert handler.calls[1][1].refund_amount_minor == 5000


def test_an_event_tessera_does_not_act_on_is_kept_as_ignored(
    api: Any, order: PaymentOrder, handler: RecordingHandler
) -> None:
    body = _paid(order, event_type="purchase.viewed", status="viewed")
    reply = post_webhook(api, "sandbox", body, sandbox_sign(body))
    assert reply.status_code == 200
    assert WebhookDelivery.objects.get().state == DeliveryState.IGNORED
    assert handler.calls == []
