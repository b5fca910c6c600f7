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
from tessera.events.tests.conftest import backdate, client_for, make_user

pytestmark = pytest.mark.django_db


@pytest.fixture
def party(make_event: Any, guest_api: Any) -> dict[str, Any]:
    event = make_event(requiresApproval=False)
    people = [make_user(f"door{i}@example.com") for i in range(2)]
    for person in people:
        client_for(person).post(f"/api/events/{event['id']}/requests", {})
    tickets = [client_for(p).get("/api/events/tickets").json()["data"]["items"][0] for p in people]
    backdate(event["id"], timedelta(hours=1))  # the tests scan up to 30 minutes ago
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


def _issued(ticket_id: str, minutes_ago: int) -> None:
    Ticket.objects.filter(pk=ticket_id).update(
        issued_at=timezone.now() - timedelta(minutes=minutes_ago)
    )


def _nothing_recorded(event_id: str, ticket_id: str) -> None:
    assert not CheckIn.objects.filter(event_id=event_id).exists()
    assert Ticket.objects.get(pk=ticket_id).inside is False
    assert not Attendance.objects.filter(event_id=event_id, status="checked_in").exists()


@pytest.mark.parametrize("presented", ["ticket", "code"])
def test_a_scan_dated_before_its_ticket_was_issued_is_refused_and_records_nothing(
    party: dict[str, Any], host_api: Any, presented: str
) -> None:
    # The secret takes PostgreSQL's one-statement path, the typed code the long way: the
    # same refusal either way.
    event_id, ticket = party["event"]["id"], party["tickets"][0]
    _issued(ticket["id"], 10)
    shown = ticket["secret"] if presented == "ticket" else ticket["code"]

    reply = host_api.post(
        f"/api/events/{event_id}/checkins",
        {presented: shown, "nonce": "too-early-1", "scannedAt": _at(16)},
    )

    assert reply.status_code == 422, reply.json()
    error = reply.json()["error"]
    assert error["code"] == "scan_time_invalid"
    assert error["message"] == "The scan time is before the ticket was issued."
    assert error["fields"] == {"scannedAt": "The scan time is before the ticket was issued."}
    _nothing_recorded(event_id, ticket["id"])


@pytest.mark.parametrize("presented", ["ticket", "code"])
def test_a_scan_within_the_clock_skew_of_the_issue_is_let_in(
    party: dict[str, Any], host_api: Any, presented: str
) -> None:
    event_id, ticket = party["event"]["id"], party["tickets"][0]
    _issued(ticket["id"], 10)
    shown = ticket["secret"] if presented == "ticket" else ticket["code"]

    reply = host_api.post(
        f"/api/events/{event_id}/checkins",
        {presented: shown, "nonce": "just-early-1", "scannedAt": _at(14)},
    )

    assert reply.status_code == 200, reply.json()
    assert reply.json()["data"]["result"] == "ok"
    assert Ticket.objects.get(pk=ticket["id"]).inside is True
    assert (
        CheckIn.objects.get(nonce="just-early-1").scanned_at
        < Ticket.objects.get(pk=ticket["id"]).issued_at
    )


def test_an_unknown_ticket_scanned_before_the_event_existed_is_refused(
    party: dict[str, Any], host_api: Any
) -> None:
    # No ticket to date it by: the event's creation (an hour ago, by the fixture) bounds it.
    event_id = party["event"]["id"]
    body = {"ticket": "forged.ticket.here", "nonce": "forged-early", "scannedAt": _at(70)}

    reply = host_api.post(f"/api/events/{event_id}/checkins", body)

    assert reply.status_code == 422, reply.json()
    error = reply.json()["error"]
    assert (error["code"], list(error["fields"])) == ("scan_time_invalid", ["scannedAt"])
    assert error["message"] == "The scan time is before the event existed."
    assert not CheckIn.objects.filter(event_id=event_id).exists()
    # After the event existed, the same scan is an ordinary unknown ticket (recorded).
    body["scannedAt"] = _at(30)
    assert host_api.post(f"/api/events/{event_id}/checkins", body).json()["error"]["code"] == (
        "unknown"
    )


def test_a_batch_with_a_scan_before_its_ticket_is_refused_whole_and_names_it(
    party: dict[str, Any], host_api: Any
) -> None:
    event_id = party["event"]["id"]
    a, b = party["tickets"]
    _issued(a["id"], 10)
    batch = {
        "scans": [
            {"ticket": b["secret"], "nonce": "batch-ok-1", "scannedAt": _at(20)},
            {"ticket": a["secret"], "nonce": "batch-early", "scannedAt": _at(16)},
        ]
    }

    reply = host_api.post(f"/api/events/{event_id}/checkins/batch", batch)

    assert reply.status_code == 422, reply.json()
    error = reply.json()["error"]
    assert error["code"] == "scan_time_invalid"
    # Named by its place in the list as sent (it is applied second, after B's).
    assert error["fields"] == {
        "scans.1.scannedAt": "The scan time is before the ticket was issued."
    }
    _nothing_recorded(event_id, a["id"])
    assert Ticket.objects.get(pk=b["id"]).inside is False


def test_a_batch_of_one_names_its_fields_as_a_longer_batch_does(
    party: dict[str, Any], host_api: Any
) -> None:
    event_id, ticket = party["event"]["id"], party["tickets"][0]
    _issued(ticket["id"], 10)
    url = f"/api/events/{event_id}/checkins/batch"

    early = {"ticket": ticket["secret"], "nonce": "one-early", "scannedAt": _at(16)}
    error = host_api.post(url, {"scans": [early]}).json()["error"]
    assert (error["code"], list(error["fields"])) == ("scan_time_invalid", ["scans.0.scannedAt"])

    before_event = {"code": "ABCD-EFGH", "nonce": "one-before-event", "scannedAt": _at(70)}
    error = host_api.post(url, {"scans": [before_event]}).json()["error"]
    assert (error["code"], list(error["fields"])) == ("scan_time_invalid", ["scans.0.scannedAt"])

    future = {"ticket": ticket["secret"], "nonce": "one-future", "scannedAt": _at(-10)}
    error = host_api.post(url, {"scans": [future]}).json()["error"]
    assert (error["code"], list(error["fields"])) == ("scan_time_invalid", ["scans.0.scannedAt"])

    neither = {"nonce": "one-neither", "scannedAt": _at(1)}
    error = host_api.post(url, {"scans": [neither]}).json()["error"]
    assert (error["code"], list(error["fields"])) == ("ticket_or_code_required", ["scans.0.ticket"])
    assert not CheckIn.objects.filter(event_id=event_id).exists()

    within = {**early, "nonce": "one-within", "scannedAt": _at(14)}
    reply = host_api.post(url, {"scans": [within]})
    assert reply.status_code == 200, reply.json()
    assert [r["result"] for r in reply.json()["data"]["results"]] == ["ok"]
