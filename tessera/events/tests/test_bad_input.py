"""Bad input: each refused with a clear 4xx in the envelope, and nothing written."""

from __future__ import annotations

import uuid
from datetime import timedelta
from typing import Any

import jwt
import pytest
from cryptography.hazmat.primitives.asymmetric.ed25519 import Ed25519PrivateKey
from django.utils import timezone

from tessera.events.models import CheckIn, Event, Invite, JoinRequest, Ticket
from tessera.events.tests.conftest import client_for, event_body, iso, make_user

pytestmark = pytest.mark.django_db


def _error(reply: Any, status: int, code: str) -> dict[str, Any]:
    assert reply.status_code == status, reply.json()
    body = reply.json()
    assert body["status"] == "error"
    assert body["error"]["code"] == code, body
    return dict(body["error"])


def test_end_before_start_is_refused(host_api: Any) -> None:
    body = event_body(startsAt=iso(timedelta(days=2)), endsAt=iso(timedelta(days=1)))
    error = _error(host_api.post("/api/events", body), 422, "event_times_invalid")
    assert "endsAt" in error["fields"]
    assert Event.objects.count() == 0


def test_publishing_with_a_start_in_the_past_is_refused(host_api: Any) -> None:
    body = event_body(startsAt=iso(timedelta(hours=-2)), endsAt=iso(timedelta(hours=1)))
    event = host_api.post("/api/events", body).json()["data"]
    _error(host_api.post(f"/api/events/{event['id']}/publish"), 422, "event_start_in_past")
    assert Event.objects.get(pk=event["id"]).status == "draft"


def test_capacity_zero_is_refused(host_api: Any) -> None:
    reply = host_api.post("/api/events", event_body(capacity=0))
    assert reply.status_code == 422
    assert "capacity" in reply.json()["error"]["fields"]
    assert Event.objects.count() == 0


def test_capacity_below_the_places_taken_is_refused(
    make_event: Any, host_api: Any, guest_api: Any
) -> None:
    event = make_event(requiresApproval=False, capacity=5)
    guest_api.post(f"/api/events/{event['id']}/requests", {})
    other = client_for(make_user("x@example.com"))
    other.post(f"/api/events/{event['id']}/requests", {})
    _error(
        host_api.patch(f"/api/events/{event['id']}", {"capacity": 1}), 422, "event_capacity_invalid"
    )
    stored = Event.objects.get(pk=event["id"])
    assert (stored.capacity, stored.places_taken) == (5, 2)


def test_a_price_with_too_many_decimals_is_refused(host_api: Any) -> None:
    error = _error(
        host_api.post("/api/events", event_body(price="10.005", currency="ZAR")),
        422,
        "amount_too_precise",
    )
    assert "price" in error["fields"]
    assert Event.objects.count() == 0


def test_a_request_to_a_private_event_without_an_invite_is_refused(
    make_event: Any, guest_api: Any
) -> None:
    event = make_event(visibility="private")
    _error(guest_api.post(f"/api/events/{event['id']}/requests", {}), 404, "not_found")
    _error(guest_api.get(f"/api/events/{event['id']}"), 404, "not_found")
    assert JoinRequest.objects.count() == 0


def test_a_second_request_by_the_same_person_is_refused(make_event: Any, guest_api: Any) -> None:
    event = make_event()
    assert guest_api.post(f"/api/events/{event['id']}/requests", {}).status_code == 201
    _error(guest_api.post(f"/api/events/{event['id']}/requests", {}), 409, "request_exists")
    assert JoinRequest.objects.count() == 1


def test_a_host_cannot_request_or_accept_their_own_request(
    make_event: Any, host_api: Any, host: Any
) -> None:
    event = make_event()
    _error(host_api.post(f"/api/events/{event['id']}/requests", {}), 409, "request_own_event")
    # Even a request row of the host's (made around the service) is never accepted.
    own = JoinRequest.objects.create(event_id=event["id"], user=host)
    _error(
        host_api.post(f"/api/events/{event['id']}/requests/{own.pk}/accept"),
        409,
        "request_own_event",
    )
    results = host_api.post(f"/api/events/{event['id']}/requests/decide", {"accept": [str(own.pk)]})
    assert results.json()["data"]["results"][0]["result"] == "request_own_event"
    own.refresh_from_db()
    assert own.status == "pending"
    assert Ticket.objects.count() == 0


def test_accepting_a_cancelled_request_is_refused(
    make_event: Any, host_api: Any, guest_api: Any
) -> None:
    event = make_event()
    request_id = guest_api.post(f"/api/events/{event['id']}/requests", {}).json()["data"]["id"]
    assert (
        guest_api.post(f"/api/events/requests/{request_id}/cancel").json()["data"]["status"]
        == "cancelled"
    )
    error = _error(
        host_api.post(f"/api/events/{event['id']}/requests/{request_id}/accept"),
        409,
        "request_cancelled",
    )
    assert error["state"] == "cancelled"
    assert Ticket.objects.count() == 0
    assert Event.objects.get(pk=event["id"]).places_taken == 0


@pytest.fixture
def door(make_event: Any, host_api: Any, guest_api: Any) -> dict[str, Any]:
    event = make_event(requiresApproval=False)
    guest_api.post(f"/api/events/{event['id']}/requests", {})
    ticket = guest_api.get("/api/events/tickets").json()["data"]["items"][0]
    return {"event": event, "ticket": ticket}


def _scan(api: Any, event_id: str, **body: Any) -> Any:
    body.setdefault("nonce", uuid.uuid4().hex)
    body.setdefault("scannedAt", timezone.now().isoformat())
    return api.post(f"/api/events/{event_id}/checkins", body)


def _unchanged(door: dict[str, Any]) -> None:
    ticket = Ticket.objects.get(pk=door["ticket"]["id"])
    assert ticket.inside is False


def test_a_forged_ticket_is_unknown(door: dict[str, Any], host_api: Any) -> None:
    claims = jwt.decode(door["ticket"]["secret"], options={"verify_signature": False})
    forged = jwt.encode(
        claims,
        Ed25519PrivateKey.generate(),
        algorithm="EdDSA",
        headers={"kid": door["ticket"]["keyId"], "typ": None},
    )
    _error(_scan(host_api, door["event"]["id"], ticket=forged), 422, "unknown")
    _error(_scan(host_api, door["event"]["id"], ticket="not.a.ticket"), 422, "unknown")
    _error(_scan(host_api, door["event"]["id"], code="ZZZZ-ZZZZ"), 422, "unknown")
    _unchanged(door)


def test_an_expired_ticket_is_refused(door: dict[str, Any], host_api: Any, settings: Any) -> None:
    # The event moved: its tickets are now signed to expire an hour ago.
    Event.objects.filter(pk=door["event"]["id"]).update(
        starts_at=timezone.now() - timedelta(hours=20), ends_at=timezone.now() - timedelta(hours=13)
    )
    from tessera.events.selectors import ticket_secret

    stale = ticket_secret(Ticket.objects.select_related("event").get(pk=door["ticket"]["id"]))
    _error(_scan(host_api, door["event"]["id"], ticket=stale), 422, "expired")
    _unchanged(door)


def test_another_events_ticket_is_the_wrong_event(
    door: dict[str, Any], make_event: Any, host_api: Any
) -> None:
    elsewhere = make_event(title="Another night")
    _error(_scan(host_api, elsewhere["id"], ticket=door["ticket"]["secret"]), 422, "wrong_event")
    _unchanged(door)


def test_a_nonce_replayed_with_another_ticket_is_refused(
    door: dict[str, Any], host_api: Any, make_event: Any
) -> None:
    event_id = door["event"]["id"]
    assert (
        _scan(host_api, event_id, ticket=door["ticket"]["secret"], nonce="nonce-0001").status_code
        == 200
    )
    _error(_scan(host_api, event_id, code="ABCD-EFGH", nonce="nonce-0001"), 409, "nonce_reused")
    assert CheckIn.objects.filter(event_id=event_id).count() == 1


def test_coordinates_out_of_range_are_refused(host_api: Any) -> None:
    reply = host_api.post("/api/venues", {"name": "Nowhere", "latitude": 91, "longitude": 10})
    assert reply.status_code == 422
    assert "latitude" in reply.json()["error"]["fields"]
    error = _error(
        host_api.get("/api/events?lat=10&lng=200&radiusKm=5"), 422, "coordinates_invalid"
    )
    assert "lng" in error["fields"]


def test_a_search_radius_of_20000_km_is_refused(host_api: Any) -> None:
    error = _error(
        host_api.get("/api/events?lat=-33.9&lng=18.4&radiusKm=20000"), 422, "radius_invalid"
    )
    assert "radiusKm" in error["fields"]


def test_an_invite_without_exactly_one_invitee_is_refused(make_event: Any, host_api: Any) -> None:
    event = make_event()
    _error(host_api.post(f"/api/events/{event['id']}/invites", {}), 422, "invitee_invalid")
    _error(
        host_api.post(
            f"/api/events/{event['id']}/invites",
            {"email": "a@example.com", "phone": "+27821234567"},
        ),
        422,
        "invitee_invalid",
    )
    assert Invite.objects.count() == 0


def test_other_peoples_events_are_not_found(make_event: Any, guest_api: Any) -> None:
    draft = make_event(publish=False)
    _error(guest_api.get(f"/api/events/{draft['id']}"), 404, "not_found")
    _error(guest_api.patch(f"/api/events/{draft['id']}", {"title": "Mine now"}), 404, "not_found")
    _error(guest_api.get(f"/api/events/{draft['id']}/checkins/export"), 404, "not_found")
    assert Event.objects.get(pk=draft["id"]).title == "Jazz night"


def test_refusals_speak_arabic(host_api: Any) -> None:
    reply = host_api.get("/api/events?lat=-33.9&lng=18.4&radiusKm=20000&lang=ar")
    assert reply.status_code == 422
    assert reply.json()["error"]["message"] == "نطاق البحث خارج الحدود المسموح بها."


def test_a_request_both_accepted_and_declined_at_once_is_refused(
    make_event: Any, host_api: Any, guest_api: Any
) -> None:
    event = make_event()
    request_id = guest_api.post(f"/api/events/{event['id']}/requests", {}).json()["data"]["id"]
    error = _error(
        host_api.post(
            f"/api/events/{event['id']}/requests/decide",
            {"accept": [request_id], "decline": [request_id]},
        ),
        422,
        "validation_error",
    )
    assert "decline" in error["fields"]
    assert JoinRequest.objects.get(pk=request_id).status == "pending"
    assert Ticket.objects.count() == 0


OUT_OF_RANGE = ["0001-01-01T00:00:00+14:00", "9999-12-31T23:59:59-12:00"]


@pytest.mark.parametrize("value", OUT_OF_RANGE)
@pytest.mark.parametrize("name", ["from", "to"])
def test_a_discovery_time_with_no_utc_equivalent_is_refused(
    guest_api: Any, name: str, value: str
) -> None:
    error = _error(guest_api.get("/api/events", {name: value}), 422, "invalid_query_parameter")
    assert name in error["fields"]


@pytest.mark.parametrize("value", OUT_OF_RANGE)
def test_a_scan_time_with_no_utc_equivalent_is_refused(
    door: dict[str, Any], host_api: Any, value: str
) -> None:
    event_id = door["event"]["id"]
    scan = {"ticket": door["ticket"]["secret"], "direction": "entry", "scannedAt": value}
    error = _error(_scan(host_api, event_id, **scan), 422, "validation_error")
    assert error["fields"] == {"scannedAt": error["fields"]["scannedAt"]}
    batch = {"scans": [{**scan, "nonce": uuid.uuid4().hex}]}
    error = _error(
        host_api.post(f"/api/events/{event_id}/checkins/batch", batch), 422, "validation_error"
    )
    assert "scans.0.scannedAt" in error["fields"]
    assert CheckIn.objects.count() == 0
    _unchanged(door)


@pytest.mark.parametrize("value", OUT_OF_RANGE)
def test_event_times_with_no_utc_equivalent_are_refused(
    make_event: Any, host_api: Any, value: str
) -> None:
    error = _error(
        host_api.post("/api/events", event_body(startsAt=value)), 422, "validation_error"
    )
    assert "startsAt" in error["fields"]
    event = make_event(publish=False)
    reply = host_api.patch(f"/api/events/{event['id']}", {"endsAt": value})
    assert "endsAt" in _error(reply, 422, "validation_error")["fields"]
    assert Event.objects.get(pk=event["id"]).ends_at.isoformat() != value


def test_a_field_refused_by_the_model_is_named_as_the_client_sent_it(host_api: Any) -> None:
    # full_clean() names the model field (online_url); the API speaks camelCase.
    reply = host_api.post("/api/events", event_body(onlineUrl="javascript:alert(1)"))
    error = _error(reply, 422, "validation_error")
    assert list(error["fields"]) == ["onlineUrl"]
    assert Event.objects.count() == 0


@pytest.mark.parametrize(
    ("starts", "ends", "field", "message"),
    [
        (timedelta(days=2), timedelta(days=40), "endsAt", "An event may last at most 31 days."),
        (
            timedelta(days=-6 * 365),
            timedelta(days=-6 * 365 + 1),
            "startsAt",
            "An event must start within 5 years of now.",
        ),
    ],
)
def test_event_times_refused_say_why(
    host_api: Any, starts: timedelta, ends: timedelta, field: str, message: str
) -> None:
    # Not "The event must end after it starts." when it does.
    body = event_body(startsAt=iso(starts), endsAt=iso(ends))
    error = _error(host_api.post("/api/events", body), 422, "event_times_invalid")
    assert (error["message"], list(error["fields"])) == (message, [field])
    assert Event.objects.count() == 0


def test_a_price_without_a_currency_asks_for_the_currency(host_api: Any, guest_api: Any) -> None:
    # Not " is not a currency code": nothing was sent to name.
    error = _error(
        host_api.post("/api/events", event_body(price="150.00")), 422, "currency_unknown"
    )
    assert error["message"] == "A currency is required (ISO 4217, such as ZAR)."
    assert error["fields"] == {"currency": "Required."}
    assert Event.objects.count() == 0
    error = _error(guest_api.get("/api/events", {"priceMin": "1"}), 422, "currency_unknown")
    assert error["message"] == "A currency is required (ISO 4217, such as ZAR)."
