"""Bulk decisions, invitations (to accounts and to addresses claimed at sign-up), RSVPs."""

from __future__ import annotations

from typing import Any

import pytest
from django.utils import timezone

from tessera.accounts.models import User
from tessera.events.models import Attendance, Event, Invite, JoinRequest, Ticket
from tessera.events.tests.conftest import client_for, make_user
from tessera.notifications.models import Notification

pytestmark = pytest.mark.django_db


def test_the_host_decides_many_requests_at_once_each_on_its_own(
    make_event: Any, host_api: Any
) -> None:
    event = make_event(capacity=2)
    people = [make_user(f"p{i}@example.com") for i in range(4)]
    ids = [
        client_for(p).post(f"/api/events/{event['id']}/requests", {}).json()["data"]["id"]
        for p in people
    ]
    cancelled = client_for(people[3]).post(f"/api/events/requests/{ids[3]}/cancel")
    assert cancelled.json()["data"]["status"] == "cancelled"

    reply = host_api.post(
        f"/api/events/{event['id']}/requests/decide",
        {
            "accept": [ids[0], ids[1], ids[2], ids[3], "00000000-0000-0000-0000-000000000000"],
            "decline": [],
        },
    )
    assert reply.status_code == 200, reply.json()
    results = {r["requestId"]: r["result"] for r in reply.json()["data"]["results"]}
    assert results == {
        ids[0]: "accepted",
        ids[1]: "accepted",
        ids[2]: "waitlisted",  # full: let in, waiting in order
        ids[3]: "request_cancelled",
        "00000000-0000-0000-0000-000000000000": "not_found",
    }
    assert Event.objects.get(pk=event["id"]).places_taken == 2
    waitlist = host_api.get(f"/api/events/{event['id']}/waitlist").json()["data"]["items"]
    assert [w["id"] for w in waitlist] == [ids[2]]

    declined = host_api.post(f"/api/events/{event['id']}/requests/decide", {"decline": [ids[2]]})
    assert declined.json()["data"]["results"][0]["result"] == "declined"
    assert Notification.objects.filter(user=people[2], kind="events.request_declined").exists()
    again = client_for(people[2]).post(f"/api/events/{event['id']}/requests", {})
    assert again.status_code == 409
    assert again.json()["error"]["code"] == "request_declined_before"


def test_raising_the_capacity_promotes_the_waitlist_in_order(
    make_event: Any, host_api: Any
) -> None:
    event = make_event(capacity=1, requiresApproval=False)
    people = [make_user(f"w{i}@example.com") for i in range(4)]
    for person in people:
        client_for(person).post(f"/api/events/{event['id']}/requests", {})
    assert host_api.patch(f"/api/events/{event['id']}", {"capacity": 3}).status_code == 200
    holders = set(
        Ticket.objects.filter(event_id=event["id"], status="valid").values_list(
            "holder__email", flat=True
        )
    )
    assert holders == {"w0@example.com", "w1@example.com", "w2@example.com"}
    assert JoinRequest.objects.get(event_id=event["id"], user=people[3]).waitlisted_at is not None


def test_an_invited_account_accepts_and_joins_a_private_event(
    make_event: Any, host_api: Any, guest: Any, guest_api: Any
) -> None:
    event = make_event(visibility="private", requiresApproval=True)
    invite = host_api.post(f"/api/events/{event['id']}/invites", {"userId": str(guest.pk)})
    assert invite.status_code == 201, invite.json()
    assert Notification.objects.filter(user=guest, kind="events.invite").exists()
    duplicate = host_api.post(f"/api/events/{event['id']}/invites", {"userId": str(guest.pk)})
    assert duplicate.status_code == 409
    assert duplicate.json()["error"]["code"] == "invite_exists"

    seen = guest_api.get(f"/api/events/{event['id']}")
    assert seen.status_code == 200
    assert seen.json()["data"]["me"]["inviteStatus"] == "pending"
    accepted = guest_api.post(f"/api/events/invites/{invite.json()['data']['id']}/accept")
    assert accepted.status_code == 200
    assert accepted.json()["data"]["status"] == "accepted"
    assert Ticket.objects.get(event_id=event["id"], holder=guest).status == "valid"
    again = guest_api.post(f"/api/events/invites/{invite.json()['data']['id']}/accept")
    assert again.status_code == 409
    assert again.json()["error"]["code"] == "invite_accepted"


def test_an_invitation_to_an_email_without_an_account_is_claimed_at_sign_up(
    make_event: Any, host_api: Any, django_capture_on_commit_callbacks: Any
) -> None:
    from django.core import mail

    event = make_event(visibility="private")
    with django_capture_on_commit_callbacks(execute=True):
        sent = host_api.post(
            f"/api/events/{event['id']}/invites", {"email": "New.Person@Example.com"}
        )
    assert sent.status_code == 201, sent.json()
    assert sent.json()["data"]["inviteeEmail"] == "new.person@example.com"
    assert any("invited you" in m.subject for m in mail.outbox)

    newcomer = User.objects.create_user(
        email="new.person@example.com", password="a long pass phrase"
    )
    assert Invite.objects.get().invitee is None  # an unverified address proves nothing
    with django_capture_on_commit_callbacks(execute=True):
        newcomer.email_verified_at = timezone.now()
        newcomer.save(update_fields=["email_verified_at", "updated_at"])
    assert Invite.objects.get().invitee == newcomer
    mine = client_for(newcomer).get("/api/events/invites").json()["data"]["items"]
    assert [i["eventId"] for i in mine] == [event["id"]]


def test_an_invitation_to_a_phone_is_claimed_when_listing_invitations(
    make_event: Any, host_api: Any
) -> None:
    event = make_event()
    assert (
        host_api.post(
            f"/api/events/{event['id']}/invites", {"phone": "+27 82 123 4567"}
        ).status_code
        == 201
    )
    person = User.objects.create_user(
        phone_number="+27821234567", phone_verified_at=timezone.now(), email=None, password=None
    )
    mine = client_for(person).get("/api/events/invites").json()["data"]["items"]
    assert len(mine) == 1
    assert mine[0]["inviteePhone"] == "+27821234567"


def test_maybe_and_not_going_without_a_place(make_event: Any, guest_api: Any, guest: Any) -> None:
    event = make_event(requiresApproval=False)
    maybe = guest_api.put(f"/api/events/{event['id']}/attendance", {"status": "maybe"})
    assert maybe.status_code == 200
    assert maybe.json()["data"]["status"] == "maybe"
    assert (
        guest_api.put(f"/api/events/{event['id']}/attendance", {"status": "not_going"}).json()[
            "data"
        ]["status"]
        == "not_going"
    )
    guest_api.post(f"/api/events/{event['id']}/requests", {})
    assert Attendance.objects.get(event_id=event["id"], user=guest).status == "going"
    held = guest_api.put(f"/api/events/{event['id']}/attendance", {"status": "maybe"})
    assert held.status_code == 409
    assert held.json()["error"]["code"] == "attendance_has_place"
    attendees = client_for(Event.objects.get(pk=event["id"]).host).get(
        f"/api/events/{event['id']}/attendees"
    )
    assert [a["status"] for a in attendees.json()["data"]["items"]] == ["going"]


def test_cancelling_an_event_gives_every_place_back_and_tells_everyone(
    make_event: Any,
    host_api: Any,
    guest_api: Any,
    guest: Any,
    django_capture_on_commit_callbacks: Any,
) -> None:
    event = make_event(requiresApproval=False)
    guest_api.post(f"/api/events/{event['id']}/requests", {})
    with django_capture_on_commit_callbacks(execute=True):
        reply = host_api.post(f"/api/events/{event['id']}/cancel")
    assert reply.json()["data"]["status"] == "cancelled"
    ticket = Ticket.objects.get(event_id=event["id"])
    assert (ticket.status, ticket.revoke_reason) == ("revoked", "event_cancelled")
    assert Event.objects.get(pk=event["id"]).places_taken == 0
    assert Notification.objects.filter(user=guest, kind="events.cancelled").exists()
    again = host_api.post(f"/api/events/{event['id']}/cancel")
    assert again.status_code == 409
    assert again.json()["error"]["code"] == "event_cancelled"


def test_what_a_post_created_is_read_back_by_the_people_it_concerns_only(
    make_event: Any, host_api: Any, host: User, guest: User, guest_api: Any
) -> None:
    """The reads the creating POSTs link to: a request (its sender, the host), an invitation
    (invited, inviter), a helper and a venue (their host/owner); anyone else gets a 404."""
    stranger = client_for(make_user("stranger@example.com"))
    event = make_event(requiresApproval=True)
    request_id = guest_api.post(f"/api/events/{event['id']}/requests", {}).json()["data"]["id"]
    for reader in (guest_api, host_api):
        reply = reader.get(f"/api/events/requests/{request_id}")
        assert reply.status_code == 200
        assert reply.json()["data"]["status"] == "pending"
    assert stranger.get(f"/api/events/requests/{request_id}").status_code == 404

    invitee = make_user("invitee@example.com")
    invite = host_api.post(f"/api/events/{event['id']}/invites", {"userId": str(invitee.pk)})
    invite_id = invite.json()["data"]["id"]
    for reader in (client_for(invitee), host_api):
        reply = reader.get(f"/api/events/invites/{invite_id}")
        assert reply.status_code == 200
        assert reply.json()["data"]["eventId"] == event["id"]
    assert guest_api.get(f"/api/events/invites/{invite_id}").status_code == 404

    helper = host_api.post(f"/api/events/{event['id']}/helpers", {"userId": str(guest.pk)})
    assert helper.status_code == 201, helper.json()
    path = f"/api/events/{event['id']}/helpers/{guest.pk}"
    assert host_api.get(path).json()["data"]["user"]["id"] == str(guest.pk)
    assert guest_api.get(path).status_code == 404  # the helper is not the host
    assert host_api.get(f"/api/events/{event['id']}/helpers/{invitee.pk}").status_code == 404

    venue = host_api.post(
        "/api/venues", {"name": "Hall", "address": "1 Main Rd", "latitude": 1, "longitude": 2}
    ).json()["data"]
    assert host_api.get(f"/api/venues/{venue['id']}").json()["data"]["name"] == "Hall"
    assert guest_api.get(f"/api/venues/{venue['id']}").status_code == 404
