"""Join requests: asking for a place, the host's decisions (one or many at once), the
waitlist, and giving a place up."""

from __future__ import annotations

from collections.abc import Sequence
from dataclasses import dataclass
from typing import Any

from django.db import IntegrityError, transaction
from django.utils.translation import gettext as _

from tessera.accounts.models import User
from tessera.core.errors import ApplicationError, InvalidInputError, NotFoundError
from tessera.events import statemachine as sm
from tessera.events.errors import (
    EventFullError,
    NoPlaceError,
    OwnEventError,
    RequestDeclinedBeforeError,
    RequestExistsError,
    StateError,
)
from tessera.events.models import Event, Invite, JoinRequest, Visibility
from tessera.events.services.common import (
    event_hosted,
    event_locked,
    event_visible_locked,
    now,
    place_take,
    require_event_state,
)
from tessera.events.services.notify import tell
from tessera.events.services.tickets import attendance_set, live_ticket, ticket_issue, ticket_revoke

ADMITTED, WAITLISTED = "accepted", "waitlisted"


def admit(*, event: Event, join_request: JoinRequest, at: Any) -> str:
    """Grant a pending request a place (the event is locked), or put it on the waitlist
    when the event is full. Returns "accepted" or "waitlisted"."""
    try:
        place_take(event)
    except EventFullError:
        if join_request.waitlisted_at is None:
            join_request.waitlisted_at = at
            join_request.save(update_fields=["waitlisted_at", "updated_at"])
        return WAITLISTED
    join_request.accept(now=at)
    join_request.save()
    ticket_issue(event=event, join_request=join_request, now=at)
    return ADMITTED


def _live_request(*, event: Event, user: User) -> JoinRequest | None:
    return (
        JoinRequest.objects.select_for_update()
        .filter(event=event, user=user, status__in=[sm.PENDING, sm.ACCEPTED])
        .first()
    )


def request_create(*, user: User, event_id: Any, message: str = "") -> JoinRequest:
    """Ask for a place. Events without approval (and invited people) are admitted at once,
    or waitlisted when full; otherwise the host is told and decides."""
    at = now()
    with transaction.atomic():
        event = event_visible_locked(user=user, event_id=event_id)
        if event.host_id == user.pk:
            raise OwnEventError
        require_event_state(event, sm.PUBLISHED)
        invite = (
            Invite.objects.select_for_update()
            .filter(event=event, invitee=user, status=sm.PENDING)
            .first()
        )
        if (
            event.visibility == Visibility.PRIVATE
            and invite is None
            and not _invited_before(event, user)
        ):
            # Someone who can see a private event without an invitation (a helper) still
            # needs one to join.
            raise NotFoundError
        if _live_request(event=event, user=user) is not None:
            raise RequestExistsError
        if JoinRequest.objects.filter(event=event, user=user, status=sm.DECLINED).exists():
            raise RequestDeclinedBeforeError
        if invite is not None:
            invite.accept(now=at)
            invite.save()
        try:
            with transaction.atomic():
                request = JoinRequest.objects.create(
                    event=event, user=user, message=message, invite=invite
                )
        except IntegrityError:
            raise RequestExistsError from None
        if invite is not None or not event.requires_approval:
            _admitted_or_waitlisted(event=event, join_request=request, at=at)
        else:
            tell(
                users=[event.host],
                kind="events.request_received",
                event=event,
                extra={"name": user.name or "Someone"},
                data={"requestId": str(request.pk)},
            )
        return request


def _invited_before(event: Event, user: User) -> bool:
    return Invite.objects.filter(event=event, invitee=user, status=sm.ACCEPTED).exists()


def _admitted_or_waitlisted(*, event: Event, join_request: JoinRequest, at: Any) -> str:
    outcome = admit(event=event, join_request=join_request, at=at)
    kind = "events.request_accepted" if outcome == ADMITTED else "events.waitlisted"
    tell(
        users=[join_request.user],
        kind=kind,
        event=event,
        extra={"paid": not event.is_free},
        data={"requestId": str(join_request.pk)},
    )
    return outcome


@dataclass(frozen=True)
class Decision:
    request_id: str
    result: str  # accepted | waitlisted | declined | an error code
    message: str = ""


def _decide_one(*, event: Event, request_id: Any, accept: bool, at: Any) -> Decision:
    request = (
        JoinRequest.objects.select_for_update()
        .select_related("user")
        .filter(pk=request_id, event=event)
        .first()
    )
    if request is None:
        raise NotFoundError
    if request.user_id == event.host_id:
        raise OwnEventError
    if accept:
        if request.status == sm.PENDING and request.waitlisted_at is not None:
            return Decision(str(request.pk), WAITLISTED)  # already let in, waiting in order
        if not sm.REQUEST.allows("accept", str(request.status)):
            raise StateError(entity="request", state=str(request.status))
        return Decision(
            str(request.pk), _admitted_or_waitlisted(event=event, join_request=request, at=at)
        )
    if not sm.REQUEST.allows("decline", str(request.status)):
        raise StateError(entity="request", state=str(request.status))
    request.decline(now=at)
    request.save()
    tell(
        users=[request.user],
        kind="events.request_declined",
        event=event,
        data={"requestId": str(request.pk)},
    )
    return Decision(str(request.pk), "declined")


def requests_decide(
    *, host: Any, event_id: Any, accept_ids: Sequence[Any] = (), decline_ids: Sequence[Any] = ()
) -> list[Decision]:
    """Accept and decline many requests at once. Each request is all-or-nothing on its own
    (a savepoint): one refused id does not undo the others; each gets its result. An id in
    both lists is a contradiction, refused before anything is decided."""
    if {str(i) for i in accept_ids} & {str(i) for i in decline_ids}:
        raise InvalidInputError(
            _("A request cannot be both accepted and declined."),
            fields={"decline": _("Also in accept.")},
        )
    at = now()
    results: list[Decision] = []
    with transaction.atomic():
        event = event_hosted(host=host, event_id=event_id)
        require_event_state(event, sm.PUBLISHED, sm.POSTPONED)
        work = [(rid, True) for rid in dict.fromkeys(accept_ids)]
        work += [(rid, False) for rid in dict.fromkeys(decline_ids)]
        for request_id, accept in work:
            try:
                with transaction.atomic():
                    results.append(
                        _decide_one(event=event, request_id=request_id, accept=accept, at=at)
                    )
            except ApplicationError as exc:
                results.append(Decision(str(request_id), str(exc.code), exc.message))
    return results


def request_decide_one(*, host: Any, event_id: Any, request_id: Any, accept: bool) -> Decision:
    """One decision, refused as an error (409, 404) rather than reported."""
    at = now()
    with transaction.atomic():
        event = event_hosted(host=host, event_id=event_id)
        require_event_state(event, sm.PUBLISHED, sm.POSTPONED)
        return _decide_one(event=event, request_id=request_id, accept=accept, at=at)


def waitlist_promote(*, event: Event, at: Any) -> int:
    """Give freed places of a locked event to the waitlist, first come first served."""
    promoted = 0
    if event.status not in (sm.PUBLISHED, sm.POSTPONED):
        return 0
    while event.places_taken < event.capacity:
        request = (
            JoinRequest.objects.select_for_update()
            .select_related("user")
            .filter(event=event, status=sm.PENDING, waitlisted_at__isnull=False)
            .order_by("waitlisted_at", "id")
            .first()
        )
        if request is None:
            break
        admit(event=event, join_request=request, at=at)
        tell(
            users=[request.user],
            kind="events.waitlist_promoted",
            event=event,
            extra={"paid": not event.is_free},
            data={"requestId": str(request.pk)},
        )
        promoted += 1
    return promoted


def place_give_up(*, event: Event, user: User, at: Any, by_host: bool, reason: str) -> bool:
    """Cancel the person's live request and ticket (the event is locked); refund when due;
    the place goes to the waitlist. Returns whether there was anything to give up."""
    request = _live_request(event=event, user=user)
    ticket = live_ticket(event=event, user_id=user.pk)
    if request is None and ticket is None:
        return False
    if request is not None:
        request.cancel(now=at)
        request.save()
    if ticket is not None:
        ticket_revoke(ticket=ticket, event=event, now=at, reason=reason, by_host=by_host)
        attendance_set(event=event, user=user, move="cancel")
    if not by_host:
        waitlist_promote(event=event, at=at)
    return True


def request_cancel(*, user: User, request_id: Any) -> JoinRequest:
    """The requester withdraws (pending) or gives up their place (accepted)."""
    at = now()
    with transaction.atomic():
        request = JoinRequest.objects.filter(pk=request_id, user=user).first()
        if request is None:
            raise NotFoundError
        event = event_locked(event_id=request.event_id)
        request = JoinRequest.objects.select_for_update().get(pk=request.pk)
        if not sm.REQUEST.allows("cancel", str(request.status)):
            raise StateError(entity="request", state=str(request.status))
        place_give_up(event=event, user=user, at=at, by_host=False, reason="cancelled_by_attendee")
        request.refresh_from_db()
        return request


def attendance_cancel(*, user: User, event_id: Any) -> None:
    """Give up my place at an event (the same as cancelling my accepted request)."""
    at = now()
    with transaction.atomic():
        event = event_visible_locked(user=user, event_id=event_id)
        if not place_give_up(
            event=event, user=user, at=at, by_host=False, reason="cancelled_by_attendee"
        ):
            raise NoPlaceError
