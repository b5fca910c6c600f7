"""The whole free-event flow through the HTTP API: create, publish, request, accept, ticket,
scan in and out, a retried scan answered the same."""

from __future__ import annotations

import uuid
from typing import Any

import jwt
import pytest
from django.core import mail
from django.utils import timezone

from tessera.events.models import Attendance, CheckIn, Event, Ticket
from tessera.notifications.models import Notification

pytestmark = pytest.mark.django_db


def _scan(api: Any, event_id: str, **body: Any) -> Any:
    body.setdefault("nonce", uuid.uuid4().hex)
    body.setdefault("scannedAt", timezone.now().isoformat())
    return api.post(f"/api/events/{event_id}/checkins", body)


@pytest.fixture
def ticketed(
    make_event: Any,
    host_api: Any,
    guest_api: Any,
    host: Any,
    django_capture_on_commit_callbacks: Any,
) -> dict[str, Any]:
    """A published event, a guest's request accepted by the host: the guest's ticket."""
    event = make_event()
    assert event["status"] == "published"
    assert event["placesLeft"] == 50

    asked = guest_api.post(f"/api/events/{event['id']}/requests", {"message": "Hi!"})
    assert asked.status_code == 201, asked.json()
    request_id = asked.json()["data"]["id"]
    assert asked.json()["data"]["status"] == "pending"
    assert Notification.objects.filter(user=host, kind="events.request_received").count() == 1

    with django_capture_on_commit_callbacks(execute=True):
        accepted = host_api.post(f"/api/events/{event['id']}/requests/{request_id}/accept")
    assert accepted.status_code == 200, accepted.json()
    assert accepted.json()["data"]["status"] == "accepted"
    tickets = guest_api.get("/api/events/tickets").json()["data"]["items"]
    assert len(tickets) == 1
    return {"event": event, "ticket": tickets[0]}


def test_an_accepted_guest_gets_a_signed_ticket_its_qr_codes_and_the_email(
    ticketed: dict[str, Any], host_api: Any, guest_api: Any, guest: Any, pushed: list[Any]
) -> None:
    ticket, event = ticketed["ticket"], ticketed["event"]
    assert ticket["status"] == "valid"
    assert len(ticket["code"]) == 9  # ABCD-EFGH
    header = jwt.get_unverified_header(ticket["secret"])
    assert header == {"alg": "EdDSA", "kid": ticket["keyId"]}
    # The ticket email carries the QR code (inline PNG, SVG attached).
    ticket_mails = [m for m in mail.outbox if m.subject.startswith("Your ticket")]
    assert len(ticket_mails) == 1
    assert ticket_mails[0].to == ["guest@example.com"]
    assert ticket["code"] in ticket_mails[0].body
    names = [
        str(a.get_filename() if hasattr(a, "get_filename") else a[0])
        for a in ticket_mails[0].attachments
    ]
    assert sorted(n.rsplit(".", 1)[1] for n in names) == ["png", "svg"]
    assert Notification.objects.filter(user=guest, kind="events.ticket").count() == 1
    assert any(p["kind"] == "events.ticket" for p in pushed)

    png = guest_api.get(f"/api/events/tickets/{ticket['id']}/qr.png")
    assert png.status_code == 200
    assert png["Content-Type"] == "image/png"
    assert png.content.startswith(b"\x89PNG")
    svg = guest_api.get(f"/api/events/tickets/{ticket['id']}/qr.svg")
    assert svg.status_code == 200
    assert b"<svg" in svg.content
    detail = host_api.get(f"/api/events/{event['id']}").json()["data"]
    assert detail["placesLeft"] == 49


def test_a_ticket_is_scanned_in_and_out_and_a_retried_scan_is_answered_the_same(
    ticketed: dict[str, Any], host_api: Any, guest: Any
) -> None:
    ticket, event = ticketed["ticket"], ticketed["event"]
    entry = _scan(host_api, event["id"], ticket=ticket["secret"], nonce="scan-0001")
    assert entry.status_code == 200, entry.json()
    assert entry.json()["data"]["result"] == "ok"
    assert entry.json()["data"]["ticket"]["inside"] is True
    again = _scan(host_api, event["id"], ticket=ticket["secret"], nonce="scan-0001")
    assert again.status_code == 200
    assert again.json()["data"]["replayed"] is True
    assert again.json()["data"]["id"] == entry.json()["data"]["id"]
    twice = _scan(host_api, event["id"], ticket=ticket["secret"], nonce="scan-0002")
    assert twice.status_code == 409
    assert twice.json()["error"]["code"] == "already_checked_in"
    # A refused scan retried gets the same refusal.
    twice_again = _scan(host_api, event["id"], ticket=ticket["secret"], nonce="scan-0002")
    assert twice_again.status_code == 409
    assert twice_again.json()["error"]["scan"]["replayed"] is True

    leave = _scan(
        host_api, event["id"], code=ticket["code"].lower(), nonce="scan-0003", direction="exit"
    )
    assert leave.status_code == 200, leave.json()
    assert leave.json()["data"]["ticket"]["inside"] is False

    attendance = Attendance.objects.get(event_id=event["id"], user=guest)
    assert attendance.status == "checked_in"
    assert attendance.checked_in_at is not None
    assert attendance.checked_out_at is not None
    assert CheckIn.objects.filter(event_id=event["id"]).count() == 3


def test_an_event_without_approval_admits_at_once_and_waitlists_when_full(
    make_event: Any, host: Any, guest_api: Any, db: Any
) -> None:
    from tessera.events.tests.conftest import client_for, make_user

    event = make_event(capacity=1, requiresApproval=False)
    first = guest_api.post(f"/api/events/{event['id']}/requests", {})
    assert first.json()["data"]["status"] == "accepted"
    other = make_user("other@example.com")
    second = client_for(other).post(f"/api/events/{event['id']}/requests", {})
    assert second.status_code == 201
    assert second.json()["data"]["status"] == "pending"
    assert second.json()["data"]["waitlisted"] is True

    # The first gives their place up: the waitlist moves up in order.
    assert guest_api.delete(f"/api/events/{event['id']}/attendance").status_code == 204
    assert Ticket.objects.get(event_id=event["id"], holder=other).status == "valid"
    assert Event.objects.get(pk=event["id"]).places_taken == 1
    assert Notification.objects.filter(user=other, kind="events.waitlist_promoted").exists()
