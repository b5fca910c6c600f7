"""`Idempotency-Key` on the events' creating POSTs: the same key and body get the stored
reply (marked replayed) and create nothing more; the same key with another body is a 422."""

from __future__ import annotations

from typing import Any

import pytest

from tessera.events.models import Event, EventHelper, Invite, JoinRequest, Venue
from tessera.events.tests.conftest import event_body, make_user

pytestmark = pytest.mark.django_db


def _twice_then_another_body(
    api: Any, path: str, body: dict[str, Any], other: dict[str, Any]
) -> tuple[Any, Any, Any]:
    first = api.post(path, body, HTTP_IDEMPOTENCY_KEY="events-key-1")
    replay = api.post(path, body, HTTP_IDEMPOTENCY_KEY="events-key-1")
    reused = api.post(path, other, HTTP_IDEMPOTENCY_KEY="events-key-1")
    return first, replay, reused


def _assert_replayed_and_refused(first: Any, replay: Any, reused: Any) -> None:
    assert first.status_code == 201, first.json()
    assert "Idempotent-Replayed" not in first
    assert replay.status_code == 201
    assert replay["Idempotent-Replayed"] == "true"
    assert replay.content == first.content
    assert reused.status_code == 422
    assert reused.json()["error"]["code"] == "idempotency_key_reused"


def test_creating_an_event_with_a_key_runs_once(host_api: Any, host: Any) -> None:
    body = event_body()
    first, replay, reused = _twice_then_another_body(
        host_api, "/api/events", body, {**body, "title": "Another night"}
    )

    _assert_replayed_and_refused(first, replay, reused)
    assert list(Event.objects.filter(host=host).values_list("title", flat=True)) == ["Jazz night"]


def test_asking_to_join_with_a_key_runs_once(make_event: Any, guest_api: Any, guest: Any) -> None:
    event = make_event()
    path = f"/api/events/{event['id']}/requests"
    first, replay, reused = _twice_then_another_body(
        guest_api, path, {"message": "Hi!"}, {"message": "Hello again"}
    )

    _assert_replayed_and_refused(first, replay, reused)
    assert list(JoinRequest.objects.filter(user=guest).values_list("message", flat=True)) == ["Hi!"]


def test_adding_a_venue_with_a_key_runs_once(host_api: Any, host: Any) -> None:
    body = {"name": "The Garden", "latitude": -33.92, "longitude": 18.42}
    first, replay, reused = _twice_then_another_body(
        host_api, "/api/venues", body, {**body, "name": "The Cellar"}
    )

    _assert_replayed_and_refused(first, replay, reused)
    assert list(Venue.objects.filter(owner=host).values_list("name", flat=True)) == ["The Garden"]


def test_inviting_with_a_key_runs_once(make_event: Any, host_api: Any) -> None:
    event = make_event(visibility="private")
    path = f"/api/events/{event['id']}/invites"
    first, replay, reused = _twice_then_another_body(
        host_api, path, {"email": "one@example.com"}, {"email": "two@example.com"}
    )

    _assert_replayed_and_refused(first, replay, reused)
    assert list(Invite.objects.values_list("invitee_email", flat=True)) == ["one@example.com"]


def test_naming_a_helper_with_a_key_runs_once(make_event: Any, host_api: Any) -> None:
    make_user("door@example.com")
    make_user("bar@example.com")
    event = make_event()
    path = f"/api/events/{event['id']}/helpers"
    first, replay, reused = _twice_then_another_body(
        host_api, path, {"email": "door@example.com"}, {"email": "bar@example.com"}
    )

    _assert_replayed_and_refused(first, replay, reused)
    assert list(EventHelper.objects.values_list("user__email", flat=True)) == ["door@example.com"]
