"""Venues, events, requests, invitations, attendance, tickets and the door.

Routes with fixed paths (`/hosting`, `/requests`, `/invites`, `/tickets`) come before
`/{event_id}` ones so that they are matched first.
"""

# No `from __future__ import annotations` here: Ninja builds the `Query[...]` parameter model
# from the evaluated annotation.
from collections.abc import Callable
from functools import partial
from typing import Any
from uuid import UUID

from django.conf import settings
from django.http import HttpRequest, HttpResponse
from ninja import Query
from ninja.pagination import paginate
from ninja.responses import Status
from ninja.throttling import BaseThrottle

from tessera.core.api import ApiRouter
from tessera.core.auth import BearerAuth, bearer_auth, cache_prefetched, require_user
from tessera.core.context import client_context
from tessera.core.envelope import success_response_around
from tessera.core.idempotency import idempotent
from tessera.core.pagination import PagePagination
from tessera.core.ratelimit import RateLimit
from tessera.events import selectors, services
from tessera.events import tickets as codes
from tessera.events.errors import ScanRefusedError
from tessera.events.schemas import (
    AttendanceOut,
    BatchIn,
    BatchOut,
    CheckInFilter,
    CheckoutIn,
    DecideIn,
    DecisionsOut,
    DiscoveryFilter,
    EventDetailOut,
    EventIn,
    EventOut,
    EventPageOut,
    EventPatch,
    ExportOut,
    HelperIn,
    HelperOut,
    HostedFilter,
    InviteIn,
    InviteOut,
    JwksOut,
    RequestFilter,
    RequestIn,
    RequestOut,
    RsvpIn,
    ScanIn,
    ScanOut,
    StatusFilter,
    TicketOut,
    VenueIn,
    VenueOut,
    VenuePatch,
)

venues_router = ApiRouter(auth=bearer_auth)
events_router = ApiRouter(auth=bearer_auth)
# A kept discovery page is read with the session, in one cache round trip (decision 0037).
discovery_auth = BearerAuth(
    prefetch=lambda request, user_id: selectors.discovery_cache_keys(
        query=request.GET, base_url=client_context(request).base_url
    )
)

_JOIN_LIMIT: list[BaseThrottle] = [
    RateLimit(settings.EVENTS_REQUEST_RATE, key="user", scope="events:join")
]


def _image(content_type: str) -> dict[str, Any]:
    return {
        "responses": {
            200: {
                "description": "The ticket's QR code",
                "content": {content_type: {"schema": {"type": "string", "format": "binary"}}},
            }
        }
    }


def _events(request: HttpRequest) -> Callable[..., dict[str, Any]]:
    """Shapes a list's events: the viewer and the client read once, not once per event."""
    return partial(
        selectors.event_view, viewer=require_user(request), client=client_context(request)
    )


def _event(request: HttpRequest, event: Any, *, with_me: bool = False) -> dict[str, Any]:
    return _events(request)(event, with_me=with_me)


def _scan(scan: ScanIn) -> services.Scan:
    return services.Scan(
        nonce=scan.nonce,
        scanned_at=scan.scanned_at,
        direction=scan.direction,
        ticket=scan.ticket,
        code=scan.code,
    )


# --- Venues ---------------------------------------------------------------------------------


@venues_router.post("", response={201: VenueOut}, summary="Add a venue")
@idempotent
def venue_create(request: HttpRequest, payload: VenueIn) -> Any:
    return Status(201, services.venue_create(owner=require_user(request), **payload.model_dump()))


@venues_router.get("", response=list[VenueOut], summary="Your venues")
@paginate(PagePagination)
def venue_list(request: HttpRequest) -> Any:
    return selectors.venues_mine(owner=require_user(request))


@venues_router.get("/{venue_id}", response=VenueOut, summary="One of your venues")
def venue_get(request: HttpRequest, venue_id: UUID) -> Any:
    return selectors.venue_get(owner=require_user(request), venue_id=venue_id)


@venues_router.patch("/{venue_id}", response=VenueOut, summary="Edit a venue")
def venue_update(request: HttpRequest, venue_id: UUID, payload: VenuePatch) -> Any:
    changes = {
        name: value
        for name, value in payload.model_dump(exclude_unset=True).items()
        if value is not None or name == "capacity"
    }
    return services.venue_update(owner=require_user(request), venue_id=venue_id, **changes)


@venues_router.delete("/{venue_id}", response={204: None}, summary="Remove a venue")
def venue_delete(request: HttpRequest, venue_id: UUID) -> Any:
    services.venue_delete(owner=require_user(request), venue_id=venue_id)
    return Status(204, None)


# --- Events: create and discover ------------------------------------------------------------


@events_router.post("", response={201: EventDetailOut}, summary="Create an event (a draft)")
@idempotent
def event_create(request: HttpRequest, payload: EventIn) -> Any:
    data = payload.model_dump()
    data["timezone_name"] = data.pop("timezone")
    event = services.event_create(host=require_user(request), **data)
    return Status(
        201,
        _event(
            request,
            selectors.event_get_for_viewer(user=require_user(request), event_id=event.pk),
            with_me=True,
        ),
    )


@events_router.get("", response=EventPageOut, auth=discovery_auth, summary="Discover public events")
def event_discover(request: HttpRequest, filters: Query[DiscoveryFilter]) -> Any:
    body = selectors.event_discover_body(
        selectors.Discovery(
            text=(filters.q or "").strip() or None,
            interest_ids=tuple(filters.interests),
            starts_after=filters.from_,
            starts_before=filters.to,
            latitude=filters.lat,
            longitude=filters.lng,
            radius_km=filters.radius_km,
            price_min=filters.price_min,
            price_max=filters.price_max,
            currency=filters.currency,
            free_only=filters.free,
            cursor=filters.cursor,
            page_size=filters.page_size,
        ),
        client=client_context(request),
        prefetched=cache_prefetched(request),
    )
    # The page arrives as JSON in this schema's shape (built through it, or kept).
    return success_response_around(body)


@events_router.get("/hosting", response=list[EventOut], summary="The events you host")
@paginate(PagePagination)
def events_hosting(request: HttpRequest, filters: Query[HostedFilter]) -> Any:
    events = selectors.events_hosted(host=require_user(request), status=filters.status)
    return selectors.Mapped(events, _events(request))


# --- Mine: requests, invitations, tickets ---------------------------------------------------


@events_router.get("/requests", response=list[RequestOut], summary="Your join requests")
@paginate(PagePagination)
def requests_mine(request: HttpRequest, filters: Query[StatusFilter]) -> Any:
    rows = selectors.requests_mine(user=require_user(request), status=filters.status)
    return selectors.Mapped(rows, selectors.request_view)


@events_router.get(
    "/requests/{request_id}",
    response=RequestOut,
    summary="A join request (yours, or to your event)",
)
def request_get(request: HttpRequest, request_id: UUID) -> Any:
    return selectors.request_view(
        selectors.request_get(user=require_user(request), request_id=request_id)
    )


@events_router.post(
    "/requests/{request_id}/cancel", response=RequestOut, summary="Withdraw, or give up your place"
)
def request_cancel(request: HttpRequest, request_id: UUID) -> Any:
    return selectors.request_view(
        services.request_cancel(user=require_user(request), request_id=request_id)
    )


@events_router.get("/invites", response=list[InviteOut], summary="Your invitations")
@paginate(PagePagination)
def invites_mine(request: HttpRequest, filters: Query[StatusFilter]) -> Any:
    user = require_user(request)
    # Invitations sent to a verified address before the account existed join the list.
    services.invites_claim_pending(user=user)
    rows = selectors.invites_mine(user=user, status=filters.status)
    return selectors.Mapped(rows, selectors.invite_view)


@events_router.get(
    "/invites/{invite_id}", response=InviteOut, summary="An invitation (to you, or that you sent)"
)
def invite_get(request: HttpRequest, invite_id: UUID) -> Any:
    return selectors.invite_view(
        selectors.invite_get(user=require_user(request), invite_id=invite_id)
    )


@events_router.post(
    "/invites/{invite_id}/accept", response=InviteOut, summary="Accept: join the event"
)
def invite_accept(request: HttpRequest, invite_id: UUID) -> Any:
    return selectors.invite_view(
        services.invite_accept(user=require_user(request), invite_id=invite_id)
    )


@events_router.post(
    "/invites/{invite_id}/decline", response=InviteOut, summary="Decline an invitation"
)
def invite_decline(request: HttpRequest, invite_id: UUID) -> Any:
    return selectors.invite_view(
        services.invite_decline(user=require_user(request), invite_id=invite_id)
    )


@events_router.get("/tickets", response=list[TicketOut], summary="Your tickets")
@paginate(PagePagination)
def tickets_mine(request: HttpRequest, filters: Query[StatusFilter]) -> Any:
    rows = selectors.tickets_mine(user=require_user(request), status=filters.status)
    return selectors.Mapped(rows, selectors.ticket_view)


@events_router.get("/tickets/{ticket_id}", response=TicketOut, summary="One of your tickets")
def ticket_get(request: HttpRequest, ticket_id: UUID) -> Any:
    return selectors.ticket_view(
        selectors.ticket_get_for_holder(user=require_user(request), ticket_id=ticket_id)
    )


def _qr(request: HttpRequest, ticket_id: UUID, kind: str) -> HttpResponse:
    ticket = selectors.ticket_get_for_holder(user=require_user(request), ticket_id=ticket_id)
    view = selectors.ticket_view(ticket)
    if view["secret"] is None:
        from tessera.events.errors import TicketNotPayableError

        raise TicketNotPayableError(extra={"state": view["status"]})
    if kind == "png":
        response = HttpResponse(codes.qr_png(view["secret"]), content_type="image/png")
    else:
        response = HttpResponse(codes.qr_svg(view["secret"]), content_type="image/svg+xml")
    response["Cache-Control"] = "private, no-store"
    return response


@events_router.get(
    "/tickets/{ticket_id}/qr.png",
    summary="The ticket's QR code (PNG)",
    openapi_extra=_image("image/png"),
)
def ticket_qr_png(request: HttpRequest, ticket_id: UUID) -> HttpResponse:
    return _qr(request, ticket_id, "png")


@events_router.get(
    "/tickets/{ticket_id}/qr.svg",
    summary="The ticket's QR code (SVG)",
    openapi_extra=_image("image/svg+xml"),
)
def ticket_qr_svg(request: HttpRequest, ticket_id: UUID) -> HttpResponse:
    return _qr(request, ticket_id, "svg")


@events_router.post(
    "/tickets/{ticket_id}/checkout", response=TicketOut, summary="Pay for a reserved ticket"
)
@idempotent(required=True)
def ticket_checkout(request: HttpRequest, ticket_id: UUID, payload: CheckoutIn) -> Any:
    ticket = services.ticket_checkout(
        user=require_user(request),
        ticket_id=ticket_id,
        success_url=payload.success_url,
        failure_url=payload.failure_url,
    )
    return selectors.ticket_view(
        selectors.ticket_get_for_holder(user=require_user(request), ticket_id=ticket.pk)
    )


# --- One event ------------------------------------------------------------------------------


@events_router.get("/{event_id}", response=EventDetailOut, summary="One event")
def event_get(request: HttpRequest, event_id: UUID) -> Any:
    event = selectors.event_get_for_viewer(user=require_user(request), event_id=event_id)
    return _event(request, event, with_me=True)


def _fresh(request: HttpRequest, event_id: Any) -> Any:
    event = selectors.event_get_for_viewer(user=require_user(request), event_id=event_id)
    return _event(request, event, with_me=True)


@events_router.patch("/{event_id}", response=EventDetailOut, summary="Edit your event")
def event_update(request: HttpRequest, event_id: UUID, payload: EventPatch) -> Any:
    # null clears only what may be empty (venue, cover, price); elsewhere it is "unchanged".
    changes = {
        name: value
        for name, value in payload.model_dump(exclude_unset=True).items()
        if value is not None or name in {"venue_id", "cover_id", "price", "currency"}
    }
    if "timezone" in changes:
        changes["timezone_name"] = changes.pop("timezone")
    services.event_update(host=require_user(request), event_id=event_id, **changes)
    return _fresh(request, event_id)


@events_router.post(
    "/{event_id}/publish",
    response=EventDetailOut,
    summary="Publish (or republish a postponed event)",
)
def event_publish(request: HttpRequest, event_id: UUID) -> Any:
    services.event_publish(
        host=require_user(request), event_id=event_id, client=client_context(request)
    )
    return _fresh(request, event_id)


@events_router.post(
    "/{event_id}/postpone", response=EventDetailOut, summary="Postpone until new dates"
)
def event_postpone(request: HttpRequest, event_id: UUID) -> Any:
    services.event_postpone(
        host=require_user(request), event_id=event_id, client=client_context(request)
    )
    return _fresh(request, event_id)


@events_router.post(
    "/{event_id}/cancel", response=EventDetailOut, summary="Cancel: places refunded"
)
def event_cancel(request: HttpRequest, event_id: UUID) -> Any:
    services.event_cancel(
        host=require_user(request), event_id=event_id, client=client_context(request)
    )
    return _fresh(request, event_id)


# --- Requests to an event -------------------------------------------------------------------


@events_router.post(
    "/{event_id}/requests", response={201: RequestOut}, summary="Ask to join", throttle=_JOIN_LIMIT
)
@idempotent
def request_create(request: HttpRequest, event_id: UUID, payload: RequestIn) -> Any:
    created = services.request_create(
        user=require_user(request), event_id=event_id, message=payload.message
    )
    created.refresh_from_db()
    return Status(201, selectors.request_view(created))


@events_router.get(
    "/{event_id}/requests", response=list[RequestOut], summary="Requests to your event"
)
@paginate(PagePagination)
def requests_for_event(request: HttpRequest, event_id: UUID, filters: Query[RequestFilter]) -> Any:
    rows = selectors.event_requests_for_host(
        host=require_user(request),
        event_id=event_id,
        status=filters.status,
        waitlisted=filters.waitlisted,
    )
    return selectors.Mapped(rows, selectors.request_view)


@events_router.get(
    "/{event_id}/waitlist", response=list[RequestOut], summary="The waitlist, in order"
)
@paginate(PagePagination)
def waitlist(request: HttpRequest, event_id: UUID) -> Any:
    rows = selectors.event_waitlist(host=require_user(request), event_id=event_id)
    return selectors.Mapped(rows, selectors.request_view)


@events_router.post(
    "/{event_id}/requests/decide", response=DecisionsOut, summary="Accept and decline many at once"
)
def requests_decide(request: HttpRequest, event_id: UUID, payload: DecideIn) -> Any:
    results = services.requests_decide(
        host=require_user(request),
        event_id=event_id,
        accept_ids=payload.accept,
        decline_ids=payload.decline,
    )
    return {"results": [r.__dict__ for r in results]}


@events_router.post(
    "/{event_id}/requests/{request_id}/accept", response=RequestOut, summary="Accept one request"
)
def request_accept(request: HttpRequest, event_id: UUID, request_id: UUID) -> Any:
    services.request_decide_one(
        host=require_user(request), event_id=event_id, request_id=request_id, accept=True
    )
    return selectors.request_view(
        selectors.event_requests_for_host(host=require_user(request), event_id=event_id).get(
            pk=request_id
        )
    )


@events_router.post(
    "/{event_id}/requests/{request_id}/decline", response=RequestOut, summary="Decline one request"
)
def request_decline(request: HttpRequest, event_id: UUID, request_id: UUID) -> Any:
    services.request_decide_one(
        host=require_user(request), event_id=event_id, request_id=request_id, accept=False
    )
    return selectors.request_view(
        selectors.event_requests_for_host(host=require_user(request), event_id=event_id).get(
            pk=request_id
        )
    )


# --- Invitations, attendance, helpers -------------------------------------------------------


@events_router.post(
    "/{event_id}/invites", response={201: InviteOut}, summary="Invite someone", throttle=_JOIN_LIMIT
)
@idempotent
def invite_create(request: HttpRequest, event_id: UUID, payload: InviteIn) -> Any:
    invite = services.invite_create(
        host=require_user(request),
        event_id=event_id,
        user_id=payload.user_id,
        email=payload.email,
        phone=payload.phone,
    )
    return Status(201, selectors.invite_view(invite))


@events_router.get(
    "/{event_id}/invites", response=list[InviteOut], summary="Invitations to your event"
)
@paginate(PagePagination)
def invites_for_event(request: HttpRequest, event_id: UUID) -> Any:
    rows = selectors.event_invites_for_host(host=require_user(request), event_id=event_id)
    return selectors.Mapped(rows, selectors.invite_view)


@events_router.put("/{event_id}/attendance", response=AttendanceOut, summary="Maybe, or not going")
def attendance_rsvp(request: HttpRequest, event_id: UUID, payload: RsvpIn) -> Any:
    attendance = services.attendance_rsvp(
        user=require_user(request), event_id=event_id, status=payload.status
    )
    return selectors.attendance_view(attendance)


@events_router.delete("/{event_id}/attendance", response={204: None}, summary="Give up your place")
def attendance_cancel(request: HttpRequest, event_id: UUID) -> Any:
    services.attendance_cancel(user=require_user(request), event_id=event_id)
    return Status(204, None)


@events_router.get("/{event_id}/attendees", response=list[AttendanceOut], summary="Who is coming")
@paginate(PagePagination)
def attendees(request: HttpRequest, event_id: UUID, filters: Query[StatusFilter]) -> Any:
    rows = selectors.event_attendees_for_host(
        host=require_user(request), event_id=event_id, status=filters.status
    )
    return selectors.Mapped(rows, selectors.attendance_view)


@events_router.post("/{event_id}/helpers", response={201: HelperOut}, summary="Name a door helper")
@idempotent
def helper_add(request: HttpRequest, event_id: UUID, payload: HelperIn) -> Any:
    helper = services.helper_add(
        host=require_user(request), event_id=event_id, user_id=payload.user_id, email=payload.email
    )
    return Status(201, selectors.helper_view(helper))


@events_router.get("/{event_id}/helpers", response=list[HelperOut], summary="Your door helpers")
@paginate(PagePagination)
def helpers(request: HttpRequest, event_id: UUID) -> Any:
    rows = selectors.event_helpers_for_host(host=require_user(request), event_id=event_id)
    return selectors.Mapped(rows, selectors.helper_view)


@events_router.get("/{event_id}/helpers/{user_id}", response=HelperOut, summary="A door helper")
def helper_get(request: HttpRequest, event_id: UUID, user_id: UUID) -> Any:
    helper = selectors.event_helper_get(
        host=require_user(request), event_id=event_id, user_id=user_id
    )
    return selectors.helper_view(helper)


@events_router.delete(
    "/{event_id}/helpers/{user_id}", response={204: None}, summary="Remove a door helper"
)
def helper_remove(request: HttpRequest, event_id: UUID, user_id: UUID) -> Any:
    services.helper_remove(host=require_user(request), event_id=event_id, user_id=user_id)
    return Status(204, None)


# --- The door -------------------------------------------------------------------------------


@events_router.get(
    "/{event_id}/ticket-key", response=JwksOut, summary="Public keys verifying the tickets"
)
def ticket_key(request: HttpRequest, event_id: UUID) -> Any:
    return selectors.ticket_keys(user=require_user(request), event_id=event_id)


@events_router.post(
    "/{event_id}/checkins",
    response=ScanOut,
    summary="Scan a ticket (entry or exit)",
    description=(
        "Idempotent by `nonce`: a retried scan gets the same answer. Answers other than ok "
        "are errors whose `code` is the answer (already_checked_in, not_checked_in, "
        "not_paid, revoked: 409; wrong_event, expired, unknown: 422) with the recorded "
        "`scan`; the same nonce with another ticket is a 409 `nonce_reused`."
    ),
)
def checkin(request: HttpRequest, event_id: UUID, payload: ScanIn) -> Any:
    outcome = services.checkin_scan(
        scanner=require_user(request), event_id=event_id, scan=_scan(payload)
    )
    view = selectors.scan_view(outcome.checkin, replayed=outcome.replayed)
    if outcome.result != "ok":
        raise ScanRefusedError(
            result=outcome.result, scan=ScanOut(**view).model_dump(mode="json", by_alias=True)
        )
    return view


@events_router.post(
    "/{event_id}/checkins/batch", response=BatchOut, summary="Upload scans made offline"
)
def checkin_batch(request: HttpRequest, event_id: UUID, payload: BatchIn) -> Any:
    outcomes = services.checkins_batch(
        scanner=require_user(request), event_id=event_id, scans=[_scan(s) for s in payload.scans]
    )
    results = [selectors.scan_view(o.checkin, replayed=o.replayed) for o in outcomes]
    conflicts = sum(1 for r in results if r["conflict"])
    return {"applied": len(results) - conflicts, "conflicts": conflicts, "results": results}


@events_router.get("/{event_id}/checkins", response=list[ScanOut], summary="The door's log")
@paginate(PagePagination)
def checkins(request: HttpRequest, event_id: UUID, filters: Query[CheckInFilter]) -> Any:
    rows = selectors.checkins_for_door(
        user=require_user(request), event_id=event_id, result=filters.result
    )
    return selectors.Mapped(rows, lambda c: selectors.scan_view(c, replayed=False))


@events_router.get(
    "/{event_id}/checkins/export", response=ExportOut, summary="The signed door list"
)
def checkins_export(request: HttpRequest, event_id: UUID) -> Any:
    return services.checkins_export(user=require_user(request), event_id=event_id)
