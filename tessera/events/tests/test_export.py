"""The account export (POST /api/auth/me/export) holds the person's part in events: what
they host and own, their requests, invitations both ways, attendance, tickets (never their
secret) and the door's scans of them; nobody else's."""

from __future__ import annotations

import json
import uuid
from typing import Any

import pytest
from django.utils import timezone

from tessera.accounts.models import User
from tessera.events.models import Ticket
from tessera.events.tests.conftest import client_for, make_user

pytestmark = pytest.mark.django_db


def _export(api: Any, capture: Any) -> dict[str, Any]:
    with capture(execute=True):
        started = api.post("/api/auth/me/export")
    assert started.status_code == 202, started.json()
    task = api.get(started.json()["data"]["statusUrl"]).json()["data"]
    assert task["state"] == "SUCCESS", task
    section: dict[str, Any] = task["result"]["events"]
    return section


def test_the_export_holds_the_persons_events_part_and_no_one_elses(
    make_event: Any,
    host_api: Any,
    guest_api: Any,
    guest: User,
    django_capture_on_commit_callbacks: Any,
) -> None:
    stranger = make_user("stranger@example.com", "Stranger")
    stranger_api = client_for(stranger)
    # The guest hosts an event of their own at their own venue, and invites the stranger…
    venue = guest_api.post(
        "/api/venues", {"name": "Gus's garden", "latitude": -33.9, "longitude": 18.4}
    )
    assert venue.status_code == 201, venue.json()
    own = make_event(client=guest_api, title="Gus's braai", venueId=venue.json()["data"]["id"])
    sent = guest_api.post(f"/api/events/{own['id']}/invites", {"userId": str(stranger.pk)})
    assert sent.status_code == 201, sent.json()
    # …asks to join the host's event, is let in and scanned at the door…
    jazz = make_event(title="Jazz night")
    asked = guest_api.post(f"/api/events/{jazz['id']}/requests", {"message": "Count me in"})
    with django_capture_on_commit_callbacks(execute=True):
        accepted = host_api.post(
            f"/api/events/{jazz['id']}/requests/{asked.json()['data']['id']}/accept"
        )
    assert accepted.status_code == 200, accepted.json()
    [ticket] = guest_api.get("/api/events/tickets").json()["data"]["items"]
    scanned = host_api.post(
        f"/api/events/{jazz['id']}/checkins",
        {
            "ticket": ticket["secret"],
            "nonce": uuid.uuid4().hex,
            "scannedAt": timezone.now().isoformat(),
        },
    )
    assert scanned.status_code == 200, scanned.json()
    # …and is invited to another of the host's events.
    gala = make_event(title="Gala")
    received = host_api.post(f"/api/events/{gala['id']}/invites", {"userId": str(guest.pk)})
    assert received.status_code == 201, received.json()
    # Other people's part, which must not appear.
    stranger_api.post(f"/api/events/{jazz['id']}/requests", {"message": "Stranger asks"})
    make_event(client=stranger_api, title="Stranger's party")

    export = _export(guest_api, django_capture_on_commit_callbacks)

    assert [event["title"] for event in export["hosted"]] == ["Gus's braai"]
    assert [v["name"] for v in export["venues"]] == ["Gus's garden"]
    [request] = export["joinRequests"]
    assert (request["eventId"], request["message"], request["status"]) == (
        jazz["id"],
        "Count me in",
        "accepted",
    )
    assert [(i["eventTitle"], i["invitee"]["name"]) for i in export["invitesSent"]] == [
        ("Gus's braai", "Stranger")
    ]
    assert [(i["eventTitle"], i["status"]) for i in export["invitesReceived"]] == [
        ("Gala", "pending")
    ]
    [attendance] = export["attendance"]
    assert (attendance["eventId"], attendance["status"]) == (jazz["id"], "checked_in")
    [held] = export["tickets"]
    assert (held["id"], held["code"], held["status"]) == (ticket["id"], ticket["code"], "valid")
    assert held["secret"] is None
    [scan] = export["checkIns"]
    assert (scan["ticketId"], scan["result"], scan["direction"]) == (ticket["id"], "ok", "entry")
    dumped = json.dumps(export)
    assert ticket["secret"] not in dumped
    assert "Stranger asks" not in dumped
    assert "Stranger's party" not in dumped
    assert Ticket.objects.filter(holder=guest).count() == 1
