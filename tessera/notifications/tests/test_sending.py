"""Queued deliveries sent by workers in batches: one failed address never fails the batch,
transient failures back off, rate limits (ours and the provider's 429) pause the channel,
and a delivery one worker holds is never sent by another."""

from __future__ import annotations

import json
from datetime import timedelta
from typing import Any
from urllib.parse import parse_qs

import pytest
from django.core import mail
from django.test import override_settings
from django.utils import timezone

from tessera.core import ratelimit
from tessera.notifications import sending
from tessera.notifications.models import Delivery
from tessera.notifications.tasks import send_due, send_queued
from tessera.notifications.tests.factories import DeliveryFactory
from tessera.notifications.tests.localserver import Reply, local_server
from tessera.notifications.tests.test_providers import (
    sendgrid_settings,
    twilio_error,
    twilio_reply,
    twilio_settings,
)

pytestmark = [
    pytest.mark.django_db,
    pytest.mark.filterwarnings("ignore::anymail.exceptions.AnymailNotSupportedWarning"),
]


def queued_emails(*addresses: str) -> list[Delivery]:
    """Queued emails, in the order workers take them (by id: time-ordered to the ms)."""
    made = [
        DeliveryFactory.create(
            channel="email", kind="capsules.ready", recipient=a, subject="S", body="B"
        )
        for a in addresses
    ]
    return sorted(made, key=lambda d: d.pk)


def queued_sms(count: int) -> list[Delivery]:
    """Queued SMS, in the order workers take them."""
    made = [
        DeliveryFactory.create(channel="sms", recipient=f"+2782123456{n}", body=f"Text {n}")
        for n in range(count)
    ]
    return sorted(made, key=lambda d: d.pk)


def fresh(delivery: Delivery) -> Delivery:
    return Delivery.objects.get(pk=delivery.pk)


def test_a_batch_sends_every_due_delivery_oldest_first() -> None:
    deliveries = queued_emails("a@example.com", "b@example.com", "c@example.com")

    report = sending.deliveries_send_queued(channel="email", batch_size=2)

    assert (report.claimed, report.sent, report.failed, report.more) == (3, 3, 0, False)
    assert [m.to for m in mail.outbox] == [[d.recipient] for d in deliveries]
    for delivery in map(fresh, deliveries):
        assert (delivery.status, delivery.attempts) == ("sent", 1)
        assert delivery.sent_at is not None


def test_one_refused_address_does_not_fail_the_batch() -> None:
    first, refused, last = queued_emails("a@example.com", "b@example.com", "c@example.com")
    replies = [
        Reply(202, b'{"message": "success"}'),
        Reply(
            400,
            json.dumps(
                {"errors": [{"message": "Does not contain a valid address.", "field": "to"}]}
            ).encode(),
        ),
        Reply(202, b'{"message": "success"}'),
    ]
    with local_server(replies) as server, sendgrid_settings(server):
        report = sending.deliveries_send_queued(channel="email")

    assert len(server.requests) == 3
    assert (report.sent, report.failed) == (2, 1)
    assert fresh(first).status == fresh(last).status == "sent"
    failed = fresh(refused)
    assert (failed.status, failed.attempts) == ("failed", 1)
    assert "Does not contain a valid address." in failed.last_error


def test_a_transient_failure_waits_with_backoff_then_goes_out() -> None:
    (delivery,) = queued_emails("a@example.com")
    with local_server([Reply(503, b"{}"), Reply(202, b"{}")]) as server, sendgrid_settings(server):
        before = timezone.now()
        report = sending.deliveries_send_queued(channel="email")
        waiting = fresh(delivery)
        assert (report.deferred, waiting.status, waiting.attempts) == (1, "queued", 1)
        # First retry: 30 s, jittered down to half at most.
        assert before + timedelta(seconds=15) <= waiting.next_attempt_at
        assert waiting.next_attempt_at <= timezone.now() + timedelta(seconds=30)
        assert "503" in waiting.last_error

        assert sending.deliveries_send_queued(channel="email").claimed == 0  # not due yet
        Delivery.objects.filter(pk=delivery.pk).update(next_attempt_at=timezone.now())
        assert sending.deliveries_send_queued(channel="email").sent == 1

    sent = fresh(delivery)
    assert (sent.status, sent.attempts, sent.last_error) == ("sent", 2, "")
    assert len(server.requests) == 2


@override_settings(NOTIFICATIONS_SEND_MAX_ATTEMPTS=3)
def test_the_last_allowed_try_fails_the_delivery() -> None:
    (delivery,) = queued_emails("a@example.com")
    Delivery.objects.filter(pk=delivery.pk).update(attempts=2)
    with local_server([Reply(500, b"{}")]) as server, sendgrid_settings(server):
        report = sending.deliveries_send_queued(channel="email")

    assert report.failed == 1
    assert (fresh(delivery).status, fresh(delivery).attempts) == ("failed", 3)


def test_the_backoff_doubles_up_to_its_cap() -> None:
    delays = [sending.retry_delay(attempts) for attempts in range(1, 10)]
    assert 15 <= delays[0] <= 30
    assert 60 <= delays[2] <= 120
    assert all(1800 <= d <= 3600 for d in delays[7:])


@pytest.mark.usefixtures("sms_outbox")
def test_twilios_429_pauses_the_channel_for_its_retry_after() -> None:
    deliveries = queued_sms(4)
    replies = [
        twilio_reply(201),
        Reply(
            429,
            json.dumps({"code": 20429, "message": "Too Many Requests", "status": 429}).encode(),
            headers=(("Retry-After", "7"),),
        ),
    ]
    with local_server(replies) as server, twilio_settings(server):
        report = sending.deliveries_send_queued(channel="sms")

    assert len(server.requests) == 2  # nothing more was tried once Twilio said stop
    assert parse_qs(server.requests[1].body.decode())["To"] == [deliveries[1].recipient]
    assert (report.sent, report.deferred, report.retry_in) == (1, 3, 7)
    sent, limited, *untried = map(fresh, deliveries)
    assert sent.status == "sent"
    assert (limited.status, limited.attempts) == (
        "queued",
        0,
    )  # the provider's limit, not the message
    assert "429" in limited.last_error
    soon = timezone.now() + timedelta(seconds=7)
    for waiting in (limited, *untried):
        assert timezone.now() < waiting.next_attempt_at <= soon


@pytest.mark.usefixtures("sms_outbox")
def test_a_twilio_failure_of_one_number_leaves_the_others_sent() -> None:
    deliveries = queued_sms(3)
    replies = [
        twilio_reply(201),
        twilio_error(400, 21211, "The 'To' number is not a valid phone number."),
        twilio_reply(201),
    ]
    with local_server(replies) as server, twilio_settings(server):
        report = sending.deliveries_send_queued(channel="sms")

    assert (report.sent, report.failed) == (2, 1)
    assert [fresh(d).status for d in deliveries] == ["sent", "failed", "sent"]


@override_settings(NOTIFICATIONS_SMS_SEND_RATE="2/minute")
def test_our_rate_limit_is_shared_and_pauses_the_rest(sms_outbox: list[Any]) -> None:
    ratelimit.limiter.cache_clear()
    deliveries = queued_sms(5)

    first = sending.deliveries_send_queued(channel="sms")
    second = sending.deliveries_send_queued(channel="sms")  # another worker, same window

    assert (first.sent, first.deferred) == (2, 3)
    assert first.retry_in is not None
    assert first.retry_in > 0
    assert (second.claimed, second.sent) == (0, 0)  # the rest wait for their time
    assert len(sms_outbox) == 2
    assert [fresh(d).status for d in deliveries] == ["sent", "sent", "queued", "queued", "queued"]


def test_a_delivery_a_worker_holds_is_not_sent_by_anyone_else(sms_outbox: list[Any]) -> None:
    (delivery,) = queued_sms(1)
    claimed = sending._claim(channel="sms", size=10, now=timezone.now())
    assert [d.pk for d in claimed] == [delivery.pk]

    assert sending.deliveries_send_queued(channel="sms").claimed == 0
    held = sending.delivery_send(delivery_id=delivery.pk)
    assert held is not None
    assert (held.status, held.attempts) == ("queued", 0)
    assert sms_outbox == []


def test_a_dead_workers_deliveries_are_taken_again_when_its_lease_ends(
    sms_outbox: list[Any],
) -> None:
    (delivery,) = queued_sms(1)
    sending._claim(channel="sms", size=10, now=timezone.now())  # then the worker died

    lease_over = timezone.now() + timedelta(seconds=301)
    assert sending._claim(channel="sms", size=10, now=timezone.now()) == []
    assert [d.pk for d in sending._claim(channel="sms", size=10, now=lease_over)] == [delivery.pk]


@override_settings(SMS_BACKEND="twilio", TWILIO_ACCOUNT_SID="", TWILIO_AUTH_TOKEN="")
def test_a_provider_that_cannot_be_set_up_fails_what_it_holds_with_the_reason() -> None:
    deliveries = queued_sms(2)

    report = sending.deliveries_send_queued(channel="sms")

    assert report.failed == 2
    for delivery in map(fresh, deliveries):
        assert delivery.status == "failed"
        assert delivery.last_error.startswith("Twilio SMS needs TWILIO_ACCOUNT_SID")


def test_the_time_budget_hands_over_to_a_fresh_run(sms_outbox: list[Any]) -> None:
    queued_sms(3)

    report = sending.deliveries_send_queued(channel="sms", batch_size=1, time_budget_seconds=0)

    assert (report.claimed, report.more) == (0, True)
    assert sending.deliveries_send_queued(channel="sms", limit=2).claimed == 2
    assert len(sms_outbox) == 2


def test_the_tasks_send_each_channel(sms_outbox: list[Any]) -> None:
    queued_sms(2)
    queued_emails("a@example.com")

    assert send_queued.delay(channel="sms").get()["sent"] == 2
    assert send_due.delay().get() == ["email", "sms"]
    assert len(mail.outbox) == 1
    assert not Delivery.objects.filter(status="queued").exists()


def test_batches_written_while_a_sending_task_is_queued_send_no_other_task(
    user: Any, django_capture_on_commit_callbacks: Any
) -> None:
    from django.core.cache import cache

    from tessera.core.jobs import drain_release
    from tessera.notifications.services import notify
    from tessera.notifications.tasks import sending_drain_name

    name = sending_drain_name("email")
    drain_release(name=name, slot=0)
    cache.add(f"tessera:drain:{name}:0", 1, timeout=60)  # a sending task is queued already
    with django_capture_on_commit_callbacks(execute=True):
        notify(user=user, kind="account.welcome", channels=["email"])
    queued = Delivery.objects.get(user=user)
    assert (queued.status, len(mail.outbox)) == ("queued", 0)  # that task will send it

    report = send_queued.apply(kwargs={"channel": "email", "slot": 0}).get()

    assert (report["sent"], fresh(queued).status, len(mail.outbox)) == (1, "sent", 1)
    assert cache.get(f"tessera:drain:{name}:0") is None  # freed: the next batch sends one
