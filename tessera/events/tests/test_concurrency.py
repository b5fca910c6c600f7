"""Capacity under real parallel PostgreSQL connections: 200 accepts at once for 50 places."""

from __future__ import annotations

from datetime import timedelta
from typing import Any

import pytest
from django.db.models import Count
from django.utils import timezone

from tessera.accounts.models import User
from tessera.events import services
from tessera.events import statemachine as sm
from tessera.events.models import Event, JoinRequest, Ticket
from tests.concurrency import race

pytestmark = [
    pytest.mark.postgres,
    pytest.mark.django_db(transaction=True, serialized_rollback=True),
]


# PostgreSQL here allows 100 connections, shared with other users of the server: 40 real
# connections, released together, make the 200 accepts (5 each, back to back).
CONNECTIONS = 40


def test_200_simultaneous_accepts_never_exceed_50_places() -> None:
    host = User.objects.create_user(email="race-host@example.com", name="Host")
    event = Event.objects.create(
        host=host,
        title="Crowded",
        starts_at=timezone.now() + timedelta(days=2),
        ends_at=timezone.now() + timedelta(days=2, hours=2),
        capacity=50,
        online_url="https://example.com",
        status=sm.PUBLISHED,
    )
    guests = User.objects.bulk_create(
        [User(email=f"race{i}@example.com", name=f"Guest {i}") for i in range(200)]
    )
    requests = JoinRequest.objects.bulk_create([JoinRequest(event=event, user=g) for g in guests])
    ids = iter([r.pk for r in requests])
    lock = __import__("threading").Lock()

    def accept_five() -> Any:
        decided = []
        for _ in range(200 // CONNECTIONS):
            with lock:
                request_id = next(ids)
            decided.append(
                services.request_decide_one(
                    host=host, event_id=event.pk, request_id=request_id, accept=True
                )
            )
        return decided

    batches = race(accept_five, CONNECTIONS, join_timeout=240)
    assert all(isinstance(b, list) for b in batches), [
        b for b in batches if not isinstance(b, list)
    ][:3]
    outcomes = [o for batch in batches for o in batch]
    assert len(outcomes) == 200

    results = sorted(o.result for o in outcomes)
    assert results.count("accepted") == 50
    assert results.count("waitlisted") == 150
    event.refresh_from_db()
    assert event.places_taken == 50
    assert Ticket.objects.filter(event=event, status=sm.VALID).count() == 50
    per_holder = Ticket.objects.filter(event=event).values("holder").annotate(n=Count("id"))
    assert {row["n"] for row in per_holder} == {1}

    # Places freed one by one go to the waitlist in the order people joined it.
    order = list(
        JoinRequest.objects.filter(event=event, waitlisted_at__isnull=False)
        .order_by("waitlisted_at", "id")
        .values_list("user_id", flat=True)[:3]
    )
    holders = list(Ticket.objects.filter(event=event).values_list("holder", flat=True)[:3])
    for holder_id in holders:
        services.attendance_cancel(user=User.objects.get(pk=holder_id), event_id=event.pk)
    promoted = set(
        Ticket.objects.filter(event=event, status=sm.VALID, holder_id__in=order).values_list(
            "holder_id", flat=True
        )
    )
    assert promoted == set(order)
    event.refresh_from_db()
    assert event.places_taken == 50


def test_the_database_refuses_more_places_than_the_capacity_without_the_lock() -> None:
    from django.db import IntegrityError
    from django.db.models import F

    host = User.objects.create_user(email="cap-host@example.com")
    event = Event.objects.create(
        host=host,
        title="Tiny",
        starts_at=timezone.now() + timedelta(days=2),
        ends_at=timezone.now() + timedelta(days=2, hours=2),
        capacity=1,
        places_taken=1,
        online_url="https://example.com",
        status=sm.PUBLISHED,
    )
    with pytest.raises(IntegrityError):
        Event.objects.filter(pk=event.pk).update(places_taken=F("places_taken") + 1)


def test_one_ticket_scanned_at_many_doors_at_once_is_let_in_once() -> None:
    """Ten doors scan the same ticket at once (each its own nonce), and one retries its own
    nonce at the same moment: one entry, every other door `already_checked_in`, the retry
    the same answer as its first, the attendance checked in once; then an exit."""
    from tessera.events.models import Attendance, CheckIn
    from tessera.events.selectors import ticket_secret

    host = User.objects.create_user(email="door-host@example.com", name="Host")
    guest = User.objects.create_user(email="door-guest@example.com", name="Guest")
    event = services.event_create(
        host=host,
        title="Door race",
        starts_at=timezone.now() + timedelta(hours=2),
        ends_at=timezone.now() + timedelta(hours=6),
        capacity=10,
        online_url="https://example.com",
        requires_approval=False,
    )
    services.event_publish(host=host, event_id=event.pk)
    services.request_create(user=guest, event_id=event.pk, message="")
    ticket = Ticket.objects.select_related("event").get(event=event, holder=guest)
    secret = ticket_secret(ticket)
    nonces = iter([f"door-{i}" for i in range(10)] + ["door-0"])
    lock = __import__("threading").Lock()

    def scan() -> Any:
        with lock:
            nonce = next(nonces)
        return services.checkin_scan(
            scanner=host,
            event_id=event.pk,
            scan=services.Scan(nonce=nonce, scanned_at=timezone.now(), ticket=secret),
        )

    outcomes = race(scan, 11, join_timeout=120)
    assert all(not isinstance(o, Exception) for o in outcomes), outcomes
    fresh = [o for o in outcomes if not o.replayed]
    assert sorted(o.result for o in fresh).count("ok") == 1
    assert {o.result for o in fresh} <= {"ok", "already_checked_in"}
    assert CheckIn.objects.filter(event=event, result="ok", direction="entry").count() == 1
    assert CheckIn.objects.filter(event=event).count() == 10  # one record per nonce
    first = CheckIn.objects.get(event=event, nonce="door-0")
    assert all(o.result == first.result for o in outcomes if o.checkin.nonce == "door-0")
    ticket.refresh_from_db()
    assert ticket.inside
    attendance = Attendance.objects.get(event=event, user=guest)
    assert attendance.status == sm.CHECKED_IN
    assert attendance.checked_in_at is not None

    out = services.checkin_scan(
        scanner=host,
        event_id=event.pk,
        scan=services.Scan(
            nonce="door-exit", scanned_at=timezone.now(), ticket=secret, direction="exit"
        ),
    )
    assert out.result == "ok"
    assert out.checkin.ticket is not None
    assert out.checkin.ticket.holder.name == "Guest"
    ticket.refresh_from_db()
    attendance.refresh_from_db()
    assert not ticket.inside
    assert attendance.checked_out_at is not None
