"""Tickets: issued when a place is granted, confirmed when paid (or at once when free),
revoked when the place is given up, refunded through the payments layer."""

from __future__ import annotations

from datetime import timedelta
from typing import Any

from django.conf import settings
from django.db import IntegrityError, transaction

from tessera.accounts.models import User
from tessera.core.analytics import AnalyticsEvent, analytics_capture
from tessera.core.jobs import enqueue_on_commit
from tessera.events import statemachine as sm
from tessera.events import tickets as codes
from tessera.events.models import Attendance, Event, JoinRequest, Ticket
from tessera.events.services.common import place_free
from tessera.events.services.notify import tell
from tessera.events.services.organisers import organiser_active_key


def attendance_set(*, event: Event, user: User, move: str, now: Any = None) -> Attendance:
    """Move (creating if needed) the person's one attendance row by a declared transition."""
    attendance, _created = Attendance.objects.select_for_update().get_or_create(
        event=event, user=user, defaults={"status": sm.MAYBE if move != "confirm" else sm.GOING}
    )
    if attendance.status == sm.ATTENDANCE.transition(move).target and move != "check_in":
        return attendance
    if sm.ATTENDANCE.allows(move, str(attendance.status)):
        method = getattr(attendance, move)
        method(now=now) if move == "check_in" else method()
        attendance.save()
    return attendance


def _code_unique_create(**fields: Any) -> Ticket:
    for _attempt in range(8):
        try:
            with transaction.atomic():
                return Ticket.objects.create(code=codes.code_new(), **fields)
        except IntegrityError as exc:
            if "code" not in str(exc).lower():
                raise
    raise RuntimeError("no free ticket code after 8 tries")  # 31^8 codes: practically never


def ticket_issue(*, event: Event, join_request: JoinRequest, now: Any) -> Ticket:
    """A ticket for a place just granted (the event is locked, the place already taken):
    valid at once when the event is free, else reserved until paid or the hold lapses."""
    key = organiser_active_key(event.host)
    free = event.is_free
    ticket = _code_unique_create(
        event=event,
        holder_id=join_request.user_id,
        request=join_request,
        status=sm.VALID if free else sm.RESERVED,
        key_id=key.key_id,
        issued_at=now,
        price_minor=event.price_minor,
        currency=event.currency,
        confirmed_at=now if free else None,
        hold_expires_at=None
        if free
        else now + timedelta(minutes=settings.EVENTS_PAYMENT_HOLD_MINUTES),
    )
    if free:
        _confirmed(ticket=ticket, event=event, now=now)
    return ticket


def _confirmed(*, ticket: Ticket, event: Event, now: Any) -> None:
    """What follows a valid ticket: the person is going, is told, and gets the QR email."""
    from tessera.events.tasks import ticket_email_send

    attendance_set(event=event, user=ticket.holder, move="confirm")
    tell(
        users=[ticket.holder],
        kind="events.ticket",
        event=event,
        extra={"code": ticket.display_code},
        data={"ticketId": str(ticket.pk)},
    )
    enqueue_on_commit(ticket_email_send, ticket_id=str(ticket.pk))
    analytics_capture(
        distinct_id=str(ticket.holder_id),
        event=AnalyticsEvent.EVENT_JOINED,
        properties={"event_id": str(event.pk), "paid": not event.is_free},
    )


def ticket_confirm(*, ticket: Ticket, event: Event, now: Any) -> None:
    ticket.confirm(now=now)
    ticket.save()
    _confirmed(ticket=ticket, event=event, now=now)


def refund_due(*, ticket: Ticket, event: Event, now: Any, by_host: bool) -> bool:
    """Whether giving this ticket up is refunded: always when the host cancels, else only
    at least EVENTS_REFUND_CUTOFF_HOURS before the start."""
    if ticket.price_minor == 0 or ticket.status != sm.VALID or ticket.order_id is None:
        return False
    if by_host:
        return True
    return now <= event.starts_at - timedelta(hours=settings.EVENTS_REFUND_CUTOFF_HOURS)


def ticket_revoke(*, ticket: Ticket, event: Event, now: Any, reason: str, by_host: bool) -> None:
    """Give a live ticket's place back (the event is locked): refund it when due, cancel its
    unpaid order, and free the place."""
    from tessera.events.tasks import ticket_order_cancel, ticket_refund

    refund = refund_due(ticket=ticket, event=event, now=now, by_host=by_host)
    open_order = ticket.order_id if ticket.status == sm.RESERVED else None
    ticket.revoke(now=now, reason=reason)
    if refund:
        ticket.refund_requested_at = now
    ticket.save()
    place_free(event)
    if refund:
        enqueue_on_commit(ticket_refund, ticket_id=str(ticket.pk))
    if open_order is not None:
        enqueue_on_commit(ticket_order_cancel, order_id=str(open_order))


def live_ticket(*, event: Event, user_id: Any) -> Ticket | None:
    return (
        Ticket.objects.select_for_update()
        .filter(event=event, holder_id=user_id, status__in=list(sm.TICKET_HOLDS_PLACE))
        .first()
    )
