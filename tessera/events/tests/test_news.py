"""What an event's people are told, in-app and by email as each prefers: a postponement, the
new dates when it is published again, the reminder (once), an accepted request."""

from __future__ import annotations

from datetime import timedelta
from typing import Any
from zoneinfo import ZoneInfo

import pytest
from django.core import mail

from tessera.accounts.models import User
from tessera.events import tasks
from tessera.events.models import Event
from tessera.events.tests.conftest import client_for, iso, make_user
from tessera.notifications.models import Delivery, Notification, NotificationPreference

pytestmark = pytest.mark.django_db


def told(kind: str) -> list[tuple[str | None, str]]:
    """(email, title) of everyone with an in-app notification of `kind`."""
    return sorted(
        Notification.objects.filter(kind=kind).values_list("user__email", "title").distinct()
    )


def emailed(kind: str) -> list[tuple[str, str]]:
    return sorted(
        Delivery.objects.filter(kind=kind, channel="email").values_list("recipient", "status")
    )


@pytest.fixture
def attendees(make_event: Any, guest: User) -> dict[str, Any]:
    """A published event without approval; the guest and a person who turned email off
    hold tickets."""
    quiet = make_user("quiet@example.com", "Quinn Quiet")
    NotificationPreference.objects.create(user=quiet, kind="*", channel="email", enabled=False)
    event = make_event(requiresApproval=False)
    for person in (guest, quiet):
        joined = client_for(person).post(f"/api/events/{event['id']}/requests", {})
        assert joined.json()["data"]["status"] == "accepted", joined.json()
    return {"event": event, "quiet": quiet}


def test_postponing_then_publishing_with_new_dates_tells_every_attendee_once_each(
    attendees: dict[str, Any],
    host_api: Any,
    pushed: list[Any],
    django_capture_on_commit_callbacks: Any,
) -> None:
    event_id = attendees["event"]["id"]

    with django_capture_on_commit_callbacks(execute=True):
        postponed = host_api.post(f"/api/events/{event_id}/postpone")
    assert postponed.status_code == 200, postponed.json()
    assert postponed.json()["data"]["status"] == "postponed"
    assert told("events.postponed") == [
        ("guest@example.com", "Postponed: Jazz night"),
        ("quiet@example.com", "Postponed: Jazz night"),
    ]
    assert emailed("events.postponed") == [("guest@example.com", "sent")]
    assert [m.to for m in mail.outbox if m.subject == "Postponed: Jazz night"] == [
        ["guest@example.com"]
    ]
    assert sorted(p["user_id"] for p in pushed if p["kind"] == "events.postponed") == sorted(
        str(u.pk) for u in User.objects.filter(email__in=["guest@example.com", "quiet@example.com"])
    )
    # The places are kept while it waits for new dates.
    assert Event.objects.get(pk=event_id).places_taken == 2

    # New dates while postponed are nobody's news yet.
    with django_capture_on_commit_callbacks(execute=True):
        moved = host_api.patch(
            f"/api/events/{event_id}",
            {"startsAt": iso(timedelta(days=30)), "endsAt": iso(timedelta(days=30, hours=3))},
        )
    assert moved.status_code == 200, moved.json()
    assert told("events.changed") == []

    with django_capture_on_commit_callbacks(execute=True):
        published = host_api.post(f"/api/events/{event_id}/publish")
    assert published.status_code == 200, published.json()
    assert published.json()["data"]["status"] == "published"
    assert told("events.changed") == [
        ("guest@example.com", "Event updated: Jazz night"),
        ("quiet@example.com", "Event updated: Jazz night"),
    ]
    assert emailed("events.changed") == [("guest@example.com", "sent")]
    event = Event.objects.get(pk=event_id)
    new_day = f"{event.starts_at.astimezone(ZoneInfo(event.timezone)):%Y-%m-%d}"
    assert all(
        new_day in body
        for body in Notification.objects.filter(kind="events.changed").values_list(
            "body", flat=True
        )
    )
    assert Notification.objects.filter(kind="events.postponed").count() == 2  # not again


def test_the_reminder_goes_out_once_from_the_beat_job_and_again_after_a_new_start(
    make_event: Any,
    guest: User,
    host_api: Any,
    pushed: list[Any],
    django_capture_on_commit_callbacks: Any,
) -> None:
    guest_api = client_for(guest)
    event = make_event(
        requiresApproval=False, startsAt=iso(timedelta(hours=3)), endsAt=iso(timedelta(hours=5))
    )
    guest_api.post(f"/api/events/{event['id']}/requests", {})
    far = make_event(requiresApproval=False)  # outside the reminder window
    guest_api.post(f"/api/events/{far['id']}/requests", {})

    with django_capture_on_commit_callbacks(execute=True):
        first = tasks.events_sweep.apply().get()
    assert first["reminded"] == 1
    assert told("events.reminder") == [("guest@example.com", "Soon: Jazz night")]
    reminder = Notification.objects.get(kind="events.reminder")
    assert reminder.data["eventId"] == event["id"]
    assert emailed("events.reminder") == [("guest@example.com", "sent")]
    assert [p["kind"] for p in pushed].count("events.reminder") == 1

    with django_capture_on_commit_callbacks(execute=True):
        second = tasks.events_sweep.apply().get()
    assert second["reminded"] == 0
    assert Notification.objects.filter(kind="events.reminder").count() == 1
    assert Delivery.objects.filter(kind="events.reminder").count() == 1

    # A new start is a new reminder.
    with django_capture_on_commit_callbacks(execute=True):
        host_api.patch(
            f"/api/events/{event['id']}",
            {"startsAt": iso(timedelta(hours=4)), "endsAt": iso(timedelta(hours=6))},
        )
        assert tasks.events_sweep.apply().get()["reminded"] == 1
    assert Notification.objects.filter(kind="events.reminder", user=guest).count() == 2


def test_an_accepted_request_is_told_in_app_and_by_email(
    make_event: Any, guest_api: Any, host_api: Any, django_capture_on_commit_callbacks: Any
) -> None:
    event = make_event()
    asked = guest_api.post(f"/api/events/{event['id']}/requests", {"message": "Hi!"})
    request_id = asked.json()["data"]["id"]
    assert told("events.request_accepted") == []

    with django_capture_on_commit_callbacks(execute=True):
        accepted = host_api.post(f"/api/events/{event['id']}/requests/{request_id}/accept")
    assert accepted.status_code == 200, accepted.json()

    assert told("events.request_accepted") == [("guest@example.com", "You're in: Jazz night")]
    notice = Notification.objects.get(kind="events.request_accepted")
    assert notice.data == {"eventId": event["id"], "requestId": request_id}
    assert emailed("events.request_accepted") == [("guest@example.com", "sent")]
    assert "You're in: Jazz night" in [m.subject for m in mail.outbox]


def test_editing_a_published_event_tells_holders_and_pending_requesters_of_what_matters(
    attendees: dict[str, Any], host_api: Any, django_capture_on_commit_callbacks: Any
) -> None:
    event_id = attendees["event"]["id"]
    host_api.patch(f"/api/events/{event_id}", {"requiresApproval": True})
    waiting = make_user("waiting@example.com")
    asked = client_for(waiting).post(f"/api/events/{event_id}/requests", {})
    assert asked.json()["data"]["status"] == "pending"

    with django_capture_on_commit_callbacks(execute=True):
        host_api.patch(f"/api/events/{event_id}", {"description": "Now with a trio"})
    assert told("events.changed") == []  # the description is not news

    with django_capture_on_commit_callbacks(execute=True):
        changed = host_api.patch(f"/api/events/{event_id}", {"onlineUrl": "https://example.com/b"})
    assert changed.status_code == 200, changed.json()
    assert [email for email, _ in told("events.changed")] == [
        "guest@example.com",
        "quiet@example.com",
        "waiting@example.com",
    ]
    assert all(
        "https://example.com/b" in body
        for body in Notification.objects.filter(kind="events.changed").values_list(
            "body", flat=True
        )
    )
    assert emailed("events.changed") == [
        ("guest@example.com", "sent"),
        ("waiting@example.com", "sent"),
    ]
