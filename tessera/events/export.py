"""The events section of the account export (tessera.core.exports)."""

from __future__ import annotations

from typing import Any

from django.db.models import Q

from tessera.events import statemachine as sm
from tessera.events.models import Attendance, CheckIn, Invite, Ticket
from tessera.events.schemas import (
    AttendanceOut,
    EventOut,
    InviteOut,
    RequestOut,
    TicketOut,
    VenueOut,
)
from tessera.events.selectors import (
    attendance_view,
    event_view,
    events_hosted,
    invite_view,
    price_out,
    request_view,
    requests_mine,
    venues_mine,
)


def _dump(schema: Any, data: Any) -> dict[str, Any]:
    return dict(schema.model_validate(data).model_dump(mode="json", by_alias=True))


def _ticket(ticket: Ticket) -> dict[str, Any]:
    """A ticket as its holder sees it, without the secret (the QR code's signed content,
    which gets in at the door): its code (shown while valid, as the API does) and status."""
    valid = ticket.status == sm.VALID
    return _dump(
        TicketOut,
        {
            "id": ticket.pk,
            "event_id": ticket.event_id,
            "event_title": ticket.event.title,
            "starts_at": ticket.event.starts_at,
            "status": str(ticket.status),
            "code": ticket.display_code if valid else None,
            "secret": None,
            "key_id": ticket.key_id,
            "qr_png_url": None,
            "qr_svg_url": None,
            "price": price_out(ticket.price_minor, ticket.currency),
            "hold_expires_at": ticket.hold_expires_at,
            "checkout_url": ticket.checkout_url or None,
            "inside": ticket.inside,
            "refunded": price_out(ticket.refunded_minor, ticket.currency),
            "created_at": ticket.created_at,
        },
    )


def _checkin(checkin: CheckIn) -> dict[str, Any]:
    return {
        "id": str(checkin.pk),
        "eventId": str(checkin.event_id),
        "ticketId": str(checkin.ticket_id),
        "direction": str(checkin.direction),
        "result": str(checkin.result),
        "scannedAt": checkin.scanned_at.isoformat(),
        "offline": checkin.offline,
    }


def _invites_received(user: Any) -> Any:
    # Also those sent to the person's verified address and not attached yet: the export
    # reads, it does not claim them.
    mine = Q(invitee=user)
    unclaimed = Q(invitee__isnull=True, status=sm.PENDING)
    if user.email and user.email_verified_at:
        mine |= unclaimed & Q(invitee_email__iexact=user.email)
    if user.phone_number and user.phone_verified_at:
        mine |= unclaimed & Q(invitee_phone=user.phone_number)
    return Invite.objects.filter(mine)


def account_export(*, user: Any) -> dict[str, Any]:
    """Events hosted (every state) and venues owned; join requests, invitations sent and
    received, attendance, tickets held and the door's scans of those tickets. Other people
    appear only as the API shows them to this person (a name beside an invitation)."""
    invites = Invite.objects.select_related("event", "invitee").order_by("-created_at", "-id")
    return {
        "hosted": [
            _dump(EventOut, event_view(event, viewer=user)) for event in events_hosted(host=user)
        ],
        "venues": [_dump(VenueOut, venue) for venue in venues_mine(owner=user)],
        "joinRequests": [
            _dump(RequestOut, request_view(request)) for request in requests_mine(user=user)
        ],
        "invitesSent": [
            _dump(InviteOut, invite_view(invite)) for invite in invites.filter(inviter=user)
        ],
        "invitesReceived": [
            _dump(InviteOut, invite_view(invite))
            for invite in invites.filter(pk__in=_invites_received(user).values("pk"))
        ],
        "attendance": [
            _dump(AttendanceOut, attendance_view(attendance))
            for attendance in Attendance.objects.filter(user=user)
            .select_related("user")
            .order_by("-created_at", "-id")
        ],
        "tickets": [
            _ticket(ticket)
            for ticket in Ticket.objects.filter(holder=user)
            .select_related("event")
            .order_by("-created_at", "-id")
        ],
        "checkIns": [
            _checkin(checkin)
            for checkin in CheckIn.objects.filter(ticket__holder=user).order_by(
                "-scanned_at", "-created_at"
            )
        ],
    }
