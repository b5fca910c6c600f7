"""Received deliveries are processed by drains, not by one task each (decision 0028)."""

from __future__ import annotations

from collections import Counter
from datetime import timedelta
from typing import Any

import pytest
from django.conf import settings
from django.core.cache import cache
from django.utils import timezone

from tessera.core.jobs import drain_release, drain_schedule
from tessera.payments import services, tasks
from tessera.payments.models import DeliveryState, PaymentOrder, WebhookDelivery
from tessera.payments.tests.helpers import (
    TEST_PURPOSE,
    RecordingHandler,
    purchase_body,
    sandbox_sign,
)
from tests.concurrency import race


def _orders(user: Any, count: int) -> list[PaymentOrder]:
    return [
        services.payment_order_create(
            owner_id=user.pk,
            purpose=TEST_PURPOSE,
            reference=f"thing-{n}",
            amount_minor=15000,
            currency="ZAR",
            idempotency_key=f"drain-{n}",
        )
        for n in range(count)
    ]


def _receive(body: bytes) -> Any:
    return services.webhook_receive(
        provider_name="sandbox", body=body, headers={"X-Signature": sandbox_sign(body)}
    )


class _SentTasks:
    """Stands in for a Celery task: records what `drain_schedule` sends."""

    def __init__(self) -> None:
        self.sent: list[dict[str, Any]] = []

    def apply_async(self, *, kwargs: dict[str, Any], countdown: float | None = None) -> None:
        self.sent.append(kwargs)


def _hold_every_slot() -> None:
    for slot in range(settings.PAYMENTS_WEBHOOK_DRAINS):
        cache.add(f"tessera:drain:{services.WEBHOOK_DRAIN_NAME}:{slot}", 1, timeout=60)


@pytest.fixture
def _free_slots() -> Any:
    for slot in range(4):
        drain_release(name="tests.drain", slot=slot)
        drain_release(name=services.WEBHOOK_DRAIN_NAME, slot=slot)
    yield
    for slot in range(4):
        drain_release(name="tests.drain", slot=slot)
        drain_release(name=services.WEBHOOK_DRAIN_NAME, slot=slot)


@pytest.mark.django_db
@pytest.mark.usefixtures("_free_slots")
def test_at_most_one_drain_per_slot_is_sent_until_its_slot_is_released() -> None:
    task = _SentTasks()

    sent = [drain_schedule(task, name="tests.drain", slots=2) for _ in range(5)]

    assert sent == [True, True, False, False, False]
    assert [kwargs["slot"] for kwargs in task.sent] == [0, 1]
    first, second = (kwargs["slot_token"] for kwargs in task.sent)
    assert first != second
    assert cache.get("tessera:drain:tests.drain:1") == second  # the marker holds its token
    assert drain_release(name="tests.drain", slot=1, token=second) is True
    assert drain_schedule(task, name="tests.drain", slots=2) is True
    assert task.sent[-1]["slot"] == 1
    assert task.sent[-1]["slot_token"] not in {first, second}


@pytest.mark.django_db
def test_a_drain_processes_every_due_delivery_each_once(
    user: Any, handler: RecordingHandler
) -> None:
    orders = _orders(user, 5)
    # Stored; their drain has not run (the test's transaction never commits).
    receipts = [_receive(purchase_body(purchase_id=order.provider_purchase_id)) for order in orders]

    result = services.webhooks_drain()

    assert (result.processed, result.failed, result.retries) == (5, 0, [])
    states = WebhookDelivery.objects.filter(pk__in=[r.delivery_id for r in receipts])
    assert sorted(states.values_list("state", "attempts")) == [(DeliveryState.PROCESSED, 1)] * 5
    assert sorted(event.order_id for _, event in handler.calls) == sorted(o.pk for o in orders)
    assert services.webhooks_drain().processed == 0


@pytest.mark.django_db
def test_a_failing_delivery_is_counted_and_retried_later_and_the_drain_goes_on(
    user: Any, handler: RecordingHandler
) -> None:
    (order,) = _orders(user, 1)
    unknown = _receive(purchase_body(purchase_id="00000000-0000-0000-0000-000000000000"))
    known = _receive(purchase_body(purchase_id=order.provider_purchase_id))

    result = services.webhooks_drain()

    assert (result.processed, result.failed) == (1, 1)
    assert [delivery_id for delivery_id, _ in result.retries] == [str(unknown.delivery_id)]
    failed = WebhookDelivery.objects.get(pk=unknown.delivery_id)
    assert (failed.state, failed.attempts) == (DeliveryState.RECEIVED, 1)
    assert failed.next_attempt_at is not None
    assert failed.next_attempt_at > timezone.now()  # waits for its backoff
    assert WebhookDelivery.objects.get(pk=known.delivery_id).state == DeliveryState.PROCESSED
    assert handler.names() == ["paid"]
    assert services.webhooks_drain().failed == 0  # not due again yet


@pytest.mark.django_db
@pytest.mark.usefixtures("_free_slots")
def test_a_delivery_whose_drain_was_lost_is_processed_by_the_sweep(
    user: Any, handler: RecordingHandler, django_capture_on_commit_callbacks: Any
) -> None:
    (order,) = _orders(user, 1)
    _hold_every_slot()  # by drains that were lost (their worker died, the markers remain)
    with django_capture_on_commit_callbacks(execute=True):
        receipt = _receive(purchase_body(purchase_id=order.provider_purchase_id))
    assert WebhookDelivery.objects.get(pk=receipt.delivery_id).state == DeliveryState.RECEIVED
    WebhookDelivery.objects.update(next_attempt_at=timezone.now() - timedelta(minutes=5))

    with django_capture_on_commit_callbacks(execute=True):
        result = services.payments_sweep()

    assert result.webhooks == 1
    assert WebhookDelivery.objects.get(pk=receipt.delivery_id).state == DeliveryState.PROCESSED
    assert handler.names() == ["paid"]


@pytest.mark.django_db
@pytest.mark.usefixtures("_free_slots")
def test_the_intake_sends_a_drain_that_processes_the_delivery(
    user: Any, handler: RecordingHandler, django_capture_on_commit_callbacks: Any
) -> None:
    (order,) = _orders(user, 1)

    with django_capture_on_commit_callbacks(execute=True):
        receipt = _receive(purchase_body(purchase_id=order.provider_purchase_id))

    assert WebhookDelivery.objects.get(pk=receipt.delivery_id).state == DeliveryState.PROCESSED
    assert handler.names() == ["paid"]
    # The drain freed its slot when it finished: the next delivery sends one again.
    assert cache.get(f"tessera:drain:{services.WEBHOOK_DRAIN_NAME}:0") is None


@pytest.mark.django_db
@pytest.mark.usefixtures("_free_slots")
def test_a_delivery_stored_while_every_slot_is_held_is_found_by_the_drain_freeing_its_slot(
    user: Any,
    handler: RecordingHandler,
    django_capture_on_commit_callbacks: Any,
    monkeypatch: pytest.MonkeyPatch,
) -> None:
    """No lost wakeup: a delivery is committed after the running drain's look at the inbox,
    just before it frees its slot. Every slot is held, so the intake sends no drain; the
    drain must still find it (it frees its slot, then looks once more)."""
    (order,) = _orders(user, 1)
    _hold_every_slot()  # slot 0 by the drain below, the others by drains that were lost
    release = tasks.drain_release
    stored: list[Any] = []

    def delivery_arrives_then_release(*, name: str, slot: int, token: str | None) -> bool:
        if not stored:
            with django_capture_on_commit_callbacks(execute=True) as callbacks:
                stored.append(_receive(purchase_body(purchase_id=order.provider_purchase_id)))
            assert len(callbacks) == 1  # the intake's drain_schedule ran, and sent nothing
            assert WebhookDelivery.objects.get(pk=stored[0].delivery_id).state == (
                DeliveryState.RECEIVED
            )
        return release(name=name, slot=slot, token=token)

    monkeypatch.setattr(tasks, "drain_release", delivery_arrives_then_release)

    tasks.drain_webhooks.apply(kwargs={"slot": 0})

    assert WebhookDelivery.objects.get(pk=stored[0].delivery_id).state == DeliveryState.PROCESSED
    assert handler.names() == ["paid"]


@pytest.mark.django_db
@pytest.mark.usefixtures("_free_slots")
def test_a_delivery_stored_after_a_drain_freed_its_slot_sends_a_new_drain(
    user: Any, handler: RecordingHandler, django_capture_on_commit_callbacks: Any
) -> None:
    """No lost wakeup the other way round: once a drain has freed its slot, the next
    delivery's intake must see the slot free and send a drain (the intake may not remember
    that the slots were held a moment ago)."""
    first_order, second_order = _orders(user, 2)
    _hold_every_slot()
    with django_capture_on_commit_callbacks(execute=True):
        first = _receive(purchase_body(purchase_id=first_order.provider_purchase_id))
    assert WebhookDelivery.objects.get(pk=first.delivery_id).state == DeliveryState.RECEIVED
    tasks.drain_webhooks.apply(kwargs={"slot": 1})  # slot 1's drain runs and frees it

    with django_capture_on_commit_callbacks(execute=True):
        second = _receive(purchase_body(purchase_id=second_order.provider_purchase_id))

    assert WebhookDelivery.objects.get(pk=first.delivery_id).state == DeliveryState.PROCESSED
    assert WebhookDelivery.objects.get(pk=second.delivery_id).state == DeliveryState.PROCESSED
    assert handler.names() == ["paid", "paid"]
    assert cache.get(f"tessera:drain:{services.WEBHOOK_DRAIN_NAME}:1") is None  # freed again


@pytest.mark.postgres
@pytest.mark.django_db(transaction=True, serialized_rollback=True)
@pytest.mark.usefixtures("_free_slots")
def test_drains_running_at_once_never_process_one_delivery_twice(
    user: Any, handler: RecordingHandler
) -> None:
    orders = _orders(user, 40)
    _hold_every_slot()  # the intake's own drains stay queued: the race below is the test
    for order in orders:
        _receive(purchase_body(purchase_id=order.provider_purchase_id))
    assert WebhookDelivery.objects.filter(state=DeliveryState.RECEIVED).count() == 40

    results = race(services.webhooks_drain, 4, join_timeout=300)

    assert all(isinstance(r, services.DrainResult) for r in results), results
    assert sum(r.processed for r in results) == 40
    assert sum(r.failed for r in results) == 0
    assert Counter(event.order_id for _, event in handler.calls) == Counter(
        {order.pk: 1 for order in orders}
    )
    assert set(WebhookDelivery.objects.values_list("state", "attempts")) == {
        (DeliveryState.PROCESSED, 1)
    }


@pytest.mark.django_db
@pytest.mark.usefixtures("_free_slots")
def test_a_drain_that_outlived_its_marker_leaves_the_new_owners_slot_held() -> None:
    """A drain ran past marker_seconds: its marker expired and another drain claimed the
    slot. Its release must not free the new owner's marker (a third drain would then run in
    the slot the second still uses)."""
    key = f"tessera:drain:{services.WEBHOOK_DRAIN_NAME}:0"
    cache.add(key, "the-new-owners-token", timeout=60)

    tasks.drain_webhooks.apply(kwargs={"slot": 0, "slot_token": "the-old-owners-token"})

    assert cache.get(key) == "the-new-owners-token"
    tasks.drain_webhooks.apply(kwargs={"slot": 0, "slot_token": "the-new-owners-token"})
    assert cache.get(key) is None


@pytest.mark.django_db
@pytest.mark.usefixtures("_free_slots")
def test_a_drain_queued_before_slot_tokens_still_frees_its_slot() -> None:
    key = f"tessera:drain:{services.WEBHOOK_DRAIN_NAME}:1"
    cache.add(key, 1, timeout=60)

    tasks.drain_webhooks.apply(kwargs={"slot": 1})

    assert cache.get(key) is None
