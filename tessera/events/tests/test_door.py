"""Offline batches, the signed door list, helpers and the published keys."""

from __future__ import annotations

import uuid
from datetime import timedelta
from typing import Any

import jwt
import pytest
from django.utils import timezone

from tessera.events import keys
from tessera.events.models import Attendance, CheckIn, Ticket
from tessera.events.tests.conftest import client_for, make_user

pytestmark = pytest.mark.django_db


@pytest.fixture
def party(make_event: Any, guest_api: Any) -> dict[str, Any]:
    event = make_event(requiresApproval=False)
    people = [make_user(f"door{i}@example.com") for i in range(2)]
    for person in people:
        client_for(person).post(f"/api/events/{event['id']}/requests", {})
    tickets = [client_for(p).get("/api/events/tickets").json()["data"]["items"][0] for p in people]
    return {"event": event, "tickets": tickets, "people": people}


def _at(minutes: int) -> str:
    return (timezone.now() - timedelta(minutes=minutes)).isoformat()


def test_offline_scans_are_applied_in_time_order_with_conflicts_reported(
    party: dict[str, Any], host_api: Any
) -> None:
    event_id = party["event"]["id"]
    a, b = party["tickets"]
    # Door 1 scanned online already: ticket A is inside.
    online = host_api.post(
        f"/api/events/{event_id}/checkins",
        {"ticket": a["secret"], "nonce": "online-1", "scannedAt": _at(30)},
    )
    assert online.status_code == 200
    batch = {
        "scans": [
            # Sent out of order: B's exit before its entry in the list.
            {"code": b["code"], "nonce": "door-2-3", "scannedAt": _at(5), "direction": "exit"},
            {"ticket": b["secret"], "nonce": "door-2-1", "scannedAt": _at(20)},
            {"ticket": a["secret"], "nonce": "door-2-2", "scannedAt": _at(10)},
            {"ticket": "forged.ticket.here", "nonce": "door-2-4", "scannedAt": _at(4)},
        ]
    }
    reply = host_api.post(f"/api/events/{event_id}/checkins/batch", batch)
    assert reply.status_code == 200, reply.json()
    data = reply.json()["data"]
    assert [(r["nonce"], r["result"]) for r in data["results"]] == [
        ("door-2-1", "ok"),
        ("door-2-2", "already_checked_in"),
        ("door-2-3", "ok"),
        ("door-2-4", "unknown"),
    ]
    assert (data["applied"], data["conflicts"]) == (2, 2)
    assert all(r["offline"] for r in data["results"])
    # Uploading the same batch again changes nothing and answers the same.
    replay = host_api.post(f"/api/events/{event_id}/checkins/batch", batch).json()["data"]
    assert [r["result"] for r in replay["results"]] == ["ok", "already_checked_in", "ok", "unknown"]
    assert all(r["replayed"] for r in replay["results"])
    assert CheckIn.objects.filter(event_id=event_id).count() == 5
    assert Ticket.objects.get(pk=b["id"]).inside is False


def test_a_named_helper_scans_and_a_stranger_cannot(party: dict[str, Any], host_api: Any) -> None:
    event_id = party["event"]["id"]
    helper = make_user("helper@example.com")
    stranger = make_user("stranger@example.com")
    added = host_api.post(f"/api/events/{event_id}/helpers", {"email": "helper@example.com"})
    assert added.status_code == 201
    body = {"ticket": party["tickets"][0]["secret"], "nonce": uuid.uuid4().hex, "scannedAt": _at(0)}
    assert client_for(stranger).post(f"/api/events/{event_id}/checkins", body).status_code == 404
    assert client_for(helper).post(f"/api/events/{event_id}/checkins", body).status_code == 200
    assert host_api.delete(f"/api/events/{event_id}/helpers/{helper.pk}").status_code == 204
    body["nonce"] = uuid.uuid4().hex
    assert client_for(helper).post(f"/api/events/{event_id}/checkins", body).status_code == 404


def test_the_door_list_is_signed_and_lists_revocations(
    party: dict[str, Any], host_api: Any
) -> None:
    event_id = party["event"]["id"]
    gone = party["people"][1]
    assert client_for(gone).delete(f"/api/events/{event_id}/attendance").status_code == 204

    jwks = host_api.get(f"/api/events/{event_id}/ticket-key").json()["data"]["keys"]
    assert [(k["kty"], k["crv"]) for k in jwks] == [("OKP", "Ed25519")]
    export = host_api.get(f"/api/events/{event_id}/checkins/export").json()["data"]
    public = keys.public_key(jwks[0]["x"])
    verified = jwt.decode(export["jws"], public, algorithms=["EdDSA"])
    door = verified["door"]
    assert door == export["document"]
    assert [t["code"] for t in door["tickets"]] == [party["tickets"][0]["code"].replace("-", "")]
    assert [r["code"] for r in door["revoked"]] == [party["tickets"][1]["code"].replace("-", "")]
    # The tickets verify with the published key, offline.
    claims = jwt.decode(party["tickets"][0]["secret"], public, algorithms=["EdDSA"])
    assert claims["t"] == uuid.UUID(party["tickets"][0]["id"]).hex


def test_a_revoked_ticket_is_refused_at_the_door(party: dict[str, Any], host_api: Any) -> None:
    event_id = party["event"]["id"]
    client_for(party["people"][0]).delete(f"/api/events/{event_id}/attendance")
    reply = host_api.post(
        f"/api/events/{event_id}/checkins",
        {"ticket": party["tickets"][0]["secret"], "nonce": uuid.uuid4().hex, "scannedAt": _at(0)},
    )
    assert reply.status_code == 409
    assert reply.json()["error"]["code"] == "revoked"
    assert reply.json()["error"]["scan"]["result"] == "revoked"


def test_a_key_rotation_keeps_old_tickets_valid(
    party: dict[str, Any], host_api: Any, host: Any
) -> None:
    from tessera.events.services import organiser_key_rotate

    old = party["tickets"][0]
    organiser_key_rotate(user=host)
    jwks = host_api.get(f"/api/events/{party['event']['id']}/ticket-key").json()["data"]["keys"]
    assert [k["active"] for k in jwks] == [True, False]
    reply = host_api.post(
        f"/api/events/{party['event']['id']}/checkins",
        {"ticket": old["secret"], "nonce": uuid.uuid4().hex, "scannedAt": _at(0)},
    )
    assert reply.status_code == 200


def test_an_unpaid_ticket_is_refused_at_the_door_as_not_paid(
    make_event: Any, guest_api: Any, host_api: Any
) -> None:
    event = make_event(price="150.00", currency="ZAR", requiresApproval=False)
    guest_api.post(f"/api/events/{event['id']}/requests", {})
    ticket = guest_api.get("/api/events/tickets").json()["data"]["items"][0]
    assert ticket["status"] == "reserved"
    stored = Ticket.objects.get(pk=ticket["id"])

    reply = host_api.post(
        f"/api/events/{event['id']}/checkins",
        {"code": stored.display_code, "nonce": "unpaid-1", "scannedAt": _at(0)},
    )

    assert reply.status_code == 409, reply.json()
    error = reply.json()["error"]
    assert error["code"] == "not_paid"
    assert error["message"] == "This ticket is not paid."
    assert (error["scan"]["result"], error["scan"]["replayed"]) == ("not_paid", False)
    stored.refresh_from_db()
    assert (stored.status, stored.inside) == ("reserved", False)
    assert list(CheckIn.objects.filter(event_id=event["id"]).values_list("result", flat=True)) == [
        "not_paid"
    ]
    assert not Attendance.objects.filter(event_id=event["id"], status="checked_in").exists()
