"""The reminder goes to each person once per start: a redelivered `events.remind` task, a
sweep that enqueues twice or two workers at once send nothing more; a new start (after a
postponement) is a new reminder."""

from __future__ import annotations

import threading
import time
import uuid
from datetime import timedelta
from typing import Any

import pytest
from django.db.models import Count
from django.utils import timezone

from tessera.accounts.models import User
from tessera.events import services, tasks
from tessera.events import statemachine as sm
from tessera.events.models import Event, EventReminder, Ticket
from tessera.events.tests.conftest import client_for, iso, make_user
from tessera.notifications.models import Delivery, Notification
from tests.concurrency import race


def reminders_per_person() -> dict[str | None, int]:
    return dict(
        Notification.objects.filter(kind="events.reminder")
        .values_list("user__email")
        .annotate(n=Count("id"))
        .values_list("user__email", "n")
    )


@pytest.fixture
def soon(make_event: Any, guest: User) -> dict[str, Any]:
    """A published event inside the reminder window; the guest and a friend hold tickets."""
    event = make_event(
        requiresApproval=False, startsAt=iso(timedelta(hours=3)), endsAt=iso(timedelta(hours=5))
    )
    for person in (guest, make_user("friend@example.com", "Fay Friend")):
        joined = client_for(person).post(f"/api/events/{event['id']}/requests", {})
        assert joined.json()["data"]["status"] == "accepted", joined.json()
    return event


@pytest.mark.django_db
def test_a_redelivered_remind_task_reminds_nobody_twice(
    soon: dict[str, Any], pushed: list[Any], django_capture_on_commit_callbacks: Any
) -> None:
    with django_capture_on_commit_callbacks(execute=True):
        assert tasks.events_sweep.apply().get()["reminded"] == 1

    # The worker was killed after sending, before the ack: the broker hands it out again.
    with django_capture_on_commit_callbacks(execute=True):
        again = tasks.event_remind.apply(kwargs={"event_id": soon["id"]}).get()

    assert again == 0
    assert reminders_per_person() == {"friend@example.com": 1, "guest@example.com": 1}
    assert Delivery.objects.filter(kind="events.reminder", channel="email").count() == 2
    assert [p["kind"] for p in pushed].count("events.reminder") == 2  # one per person
    reminder = EventReminder.objects.get(event_id=soon["id"])
    assert reminder.notified_at is not None
    assert reminder.starts_at == Event.objects.get(pk=soon["id"]).starts_at


@pytest.mark.django_db
def test_a_sweep_that_enqueues_twice_reminds_nobody_twice(
    soon: dict[str, Any], django_capture_on_commit_callbacks: Any
) -> None:
    with django_capture_on_commit_callbacks(execute=True):
        tasks.events_sweep.apply().get()
    # A sweep that lost its `reminded_at` write (say, rolled back after the task was sent).
    Event.objects.filter(pk=soon["id"]).update(reminded_at=None)
    with django_capture_on_commit_callbacks(execute=True):
        assert tasks.events_sweep.apply().get()["reminded"] == 1

    assert reminders_per_person() == {"friend@example.com": 1, "guest@example.com": 1}


@pytest.mark.django_db
def test_a_postponed_event_is_reminded_again_for_its_new_start_once(
    soon: dict[str, Any], host_api: Any, django_capture_on_commit_callbacks: Any
) -> None:
    event_id = soon["id"]
    with django_capture_on_commit_callbacks(execute=True):
        tasks.events_sweep.apply().get()
    assert reminders_per_person() == {"friend@example.com": 1, "guest@example.com": 1}

    with django_capture_on_commit_callbacks(execute=True):
        assert host_api.post(f"/api/events/{event_id}/postpone").status_code == 200
        moved = host_api.patch(
            f"/api/events/{event_id}",
            {"startsAt": iso(timedelta(hours=4)), "endsAt": iso(timedelta(hours=6))},
        )
        assert moved.status_code == 200, moved.json()
        # Postponed: the sweep has nothing to remind, a stray task sends nothing.
        assert tasks.events_sweep.apply().get()["reminded"] == 0
        assert tasks.event_remind.apply(kwargs={"event_id": event_id}).get() == 0
        assert host_api.post(f"/api/events/{event_id}/publish").status_code == 200
        assert tasks.events_sweep.apply().get()["reminded"] == 1
    with django_capture_on_commit_callbacks(execute=True):
        assert tasks.event_remind.apply(kwargs={"event_id": event_id}).get() == 0

    assert reminders_per_person() == {"friend@example.com": 2, "guest@example.com": 2}
    assert EventReminder.objects.filter(event_id=event_id, notified_at__isnull=False).count() == 2


@pytest.mark.postgres
@pytest.mark.django_db(transaction=True, serialized_rollback=True)
def test_parallel_remind_runs_remind_each_person_once() -> None:
    host = User.objects.create_user(email="remind-host@example.com", name="Host")
    start = timezone.now() + timedelta(hours=2)
    event = Event.objects.create(
        host=host,
        title="Soon",
        starts_at=start,
        ends_at=start + timedelta(hours=2),
        capacity=50,
        places_taken=30,
        online_url="https://example.com",
        status=sm.PUBLISHED,
    )
    people = User.objects.bulk_create(
        [User(email=f"remind{i}@example.com", name=f"Guest {i}") for i in range(30)]
    )
    Ticket.objects.bulk_create(
        [
            Ticket(
                event=event,
                holder=person,
                code=f"R{i:07d}",
                key_id="k",
                issued_at=timezone.now(),
                status=sm.VALID,
            )
            for i, person in enumerate(people)
        ]
    )

    told = race(lambda: services.event_remind_now(event_id=event.pk), 4)

    assert sorted(told) == [0, 0, 0, 30], told
    per_user = (
        Notification.objects.filter(kind="events.reminder")
        .values("user")
        .annotate(n=Count("id"))
        .values_list("n", flat=True)
    )
    assert len(per_user) == 30
    assert set(per_user) == {1}
    assert EventReminder.objects.filter(event=event).count() == 1


@pytest.mark.django_db
def test_a_reminder_whose_task_was_lost_is_sent_by_a_later_sweep_once(
    soon: dict[str, Any], django_capture_on_commit_callbacks: Any
) -> None:
    # The sweep marks the event and enqueues its task; the broker loses the task.
    with django_capture_on_commit_callbacks(execute=False):
        assert services.events_sweep().reminded == 1
    assert reminders_per_person() == {}
    pending = EventReminder.objects.get(event_id=soon["id"])
    assert pending.notified_at is None

    # A minute later the task may only be late: nothing is sent again yet.
    with django_capture_on_commit_callbacks(execute=True):
        early = services.events_sweep(at=timezone.now() + timedelta(minutes=1))
    assert early.reminders_resent == 0
    assert reminders_per_person() == {}

    # Past REMINDER_LOST_AFTER the sweep enqueues it again, and everyone is reminded once.
    later = timezone.now() + timedelta(minutes=6)
    with django_capture_on_commit_callbacks(execute=True):
        assert services.events_sweep(at=later).reminders_resent == 1
    assert reminders_per_person() == {"friend@example.com": 1, "guest@example.com": 1}
    with django_capture_on_commit_callbacks(execute=True):
        assert services.events_sweep(at=later + timedelta(minutes=6)).reminders_resent == 0
    assert reminders_per_person() == {"friend@example.com": 1, "guest@example.com": 1}


@pytest.mark.django_db
def test_a_lost_reminder_of_a_cancelled_event_is_not_sent_again(
    soon: dict[str, Any], django_capture_on_commit_callbacks: Any
) -> None:
    with django_capture_on_commit_callbacks(execute=False):
        services.events_sweep()
    Event.objects.filter(pk=soon["id"]).update(status=sm.CANCELLED)
    with django_capture_on_commit_callbacks(execute=True):
        resent = services.events_sweep(at=timezone.now() + timedelta(minutes=6))
    assert resent.reminders_resent == 0
    assert reminders_per_person() == {}


def _crowd(n: int, *, prefix: str = "crowd") -> Event:
    """A published event starting in two hours with `n` people holding valid tickets."""
    host = User.objects.create_user(email=f"{prefix}-host@example.com", name="Host")
    start = timezone.now() + timedelta(hours=2)
    event = Event.objects.create(
        host=host,
        title="Crowd",
        starts_at=start,
        ends_at=start + timedelta(hours=2),
        capacity=n + 10,
        places_taken=n,
        online_url="https://example.com",
        status=sm.PUBLISHED,
    )
    people = User.objects.bulk_create(
        [User(email=f"{prefix}{i}@example.com", name=f"Guest {i}") for i in range(n)]
    )
    Ticket.objects.bulk_create(
        [
            Ticket(
                event=event,
                holder=person,
                code=f"C{i:07d}",
                key_id="k",
                issued_at=timezone.now(),
                status=sm.VALID,
            )
            for i, person in enumerate(people)
        ]
    )
    return event


def _told_ids(event: Event) -> list[str]:
    return sorted(
        str(i)
        for i in Notification.objects.filter(
            kind="events.reminder", user__event_tickets__event=event
        ).values_list("user_id", flat=True)
    )


def _holder_ids(event: Event) -> list[str]:
    return sorted(
        str(i) for i in Ticket.objects.filter(event=event).values_list("holder_id", flat=True)
    )


@pytest.mark.django_db
def test_the_reminder_goes_in_chunks_each_advancing_its_marker(monkeypatch: Any) -> None:
    from tessera.events.services import sweep

    monkeypatch.setattr(sweep, "REMINDER_CHUNK", 4)
    event = _crowd(10)
    chunks: list[list[str]] = []
    real_tell = sweep.tell

    def tell(*, users: Any, **kwargs: Any) -> int:
        people = list(users)
        reminder = EventReminder.objects.get(event=event)
        # Each chunk starts after the marker the one before committed.
        assert reminder.told_through == (uuid.UUID(chunks[-1][-1]) if chunks else None)
        assert reminder.notified_at is None
        chunks.append(people)
        return real_tell(users=people, **kwargs)

    monkeypatch.setattr(sweep, "tell", tell)

    assert services.event_remind_now(event_id=event.pk) == 10

    assert [len(c) for c in chunks] == [4, 4, 2]
    assert [p for c in chunks for p in c] == _holder_ids(event)  # by user id, no repeats
    assert _told_ids(event) == _holder_ids(event)
    reminder = EventReminder.objects.get(event=event)
    assert reminder.notified_at is not None
    assert str(reminder.told_through) == _holder_ids(event)[-1]
    assert services.event_remind_now(event_id=event.pk) == 0


@pytest.mark.django_db
def test_a_full_last_chunk_is_closed_by_an_empty_one(monkeypatch: Any) -> None:
    from tessera.events.services import sweep

    monkeypatch.setattr(sweep, "REMINDER_CHUNK", 5)
    event = _crowd(10)

    assert services.event_remind_now(event_id=event.pk) == 10

    assert _told_ids(event) == _holder_ids(event)
    assert EventReminder.objects.get(event=event).notified_at is not None


@pytest.mark.django_db
def test_a_run_killed_between_chunks_resumes_after_the_last_finished_one(
    monkeypatch: Any, django_capture_on_commit_callbacks: Any
) -> None:
    from tessera.events.services import sweep

    monkeypatch.setattr(sweep, "REMINDER_CHUNK", 3)
    event = _crowd(8)
    calls = 0
    real_tell = sweep.tell

    def dies_in_the_second_chunk(**kwargs: Any) -> int:
        nonlocal calls
        calls += 1
        told = real_tell(**kwargs)  # written, then lost with its transaction
        if calls == 2:
            raise SystemExit("worker killed")
        return told

    monkeypatch.setattr(sweep, "tell", dies_in_the_second_chunk)
    with pytest.raises(SystemExit):
        services.event_remind_now(event_id=event.pk)

    holders = _holder_ids(event)
    assert _told_ids(event) == holders[:3]  # the first chunk stands, the second rolled back
    reminder = EventReminder.objects.get(event=event)
    assert (str(reminder.told_through), reminder.notified_at) == (holders[2], None)

    # The task is lost: past REMINDER_LOST_AFTER the sweep sends it again, and it resumes.
    monkeypatch.setattr(sweep, "tell", real_tell)
    Event.objects.filter(pk=event.pk).update(reminded_at=timezone.now())
    with django_capture_on_commit_callbacks(execute=True):
        later = services.events_sweep(at=timezone.now() + timedelta(minutes=6))
    assert later.reminders_resent == 1

    assert _told_ids(event) == holders  # everyone once
    assert EventReminder.objects.get(event=event).notified_at is not None


@pytest.mark.postgres
@pytest.mark.django_db(transaction=True, serialized_rollback=True)
def test_parallel_chunked_remind_runs_tell_each_person_once(monkeypatch: Any) -> None:
    from tessera.events.services import sweep

    monkeypatch.setattr(sweep, "REMINDER_CHUNK", 7)
    event = _crowd(40, prefix="para")
    real_tell = sweep.tell

    def slow_tell(**kwargs: Any) -> int:
        time.sleep(0.02)  # a chunk takes a while: later runs find it locked or done
        return int(real_tell(**kwargs))

    monkeypatch.setattr(sweep, "tell", slow_tell)
    starts = iter([0.0, 0.01, 0.03, 0.05])
    lock = threading.Lock()

    def run() -> int:
        with lock:
            delay = next(starts)
        time.sleep(delay)  # staggered: some runs arrive between another's chunks
        return services.event_remind_now(event_id=event.pk)

    told = race(run, 4)

    assert sum(told) == 40, told
    per_user = (
        Notification.objects.filter(kind="events.reminder")
        .values("user")
        .annotate(n=Count("id"))
        .values_list("n", flat=True)
    )
    assert len(per_user) == 40
    assert set(per_user) == {1}
    reminder = EventReminder.objects.get(event=event)
    assert reminder.notified_at is not None
    assert str(reminder.told_through) == _holder_ids(event)[-1]
