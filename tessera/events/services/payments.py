"""Paid tickets through the payments layer (`tessera.payments`, a platform app).

Events never touches payments' models: it creates orders, refunds and cancels through
`tessera.payments.services`, and hears back through `TicketPayments`, registered for the
purpose `events.ticket` in `apps.py`. Each hook runs inside the payment's own transaction,
exactly once per status change; they are idempotent anyway. Orders are created outside
this module's transactions (the payments layer commits an order before it calls the
gateway), keyed by the ticket and its attempt number, so a retried checkout finds the same
order and a new one is made only after the previous one failed.
"""

from __future__ import annotations

from typing import Any

from django.db import transaction
from django.utils.translation import gettext as _

from tessera.accounts.models import User
from tessera.core.errors import NotFoundError
from tessera.core.jobs import enqueue_on_commit
from tessera.events import statemachine as sm
from tessera.events.errors import TicketNotPayableError
from tessera.events.models import Ticket
from tessera.events.services.common import event_locked, now, place_take
from tessera.events.services.notify import tell
from tessera.events.services.tickets import ticket_confirm
from tessera.payments import services as payments
from tessera.payments.hooks import OrderEvent, PaymentHandler

PURPOSE = "events.ticket"


def _reserved(*, user: User, ticket_id: Any) -> Ticket:
    ticket = (
        Ticket.objects.select_for_update(of=("self",))
        .select_related("event")
        .filter(pk=ticket_id, holder=user)
        .first()
    )
    if ticket is None:
        raise NotFoundError(_("The ticket was not found."))
    if ticket.status != sm.RESERVED or ticket.price_minor == 0:
        raise TicketNotPayableError(extra={"state": str(ticket.status)})
    return ticket


def ticket_checkout(
    *,
    user: User,
    ticket_id: Any,
    success_url: str | None = None,
    failure_url: str | None = None,
) -> Ticket:
    """The checkout of a reserved ticket: its open order's, or a new order's."""
    with transaction.atomic():
        ticket = _reserved(user=user, ticket_id=ticket_id)
        if ticket.order_id is not None and ticket.checkout_url:
            return ticket
        title, attempt = ticket.event.title, ticket.payment_attempts
    order = payments.payment_order_create(
        owner_id=user.pk,
        purpose=PURPOSE,
        reference=str(ticket.pk),
        amount_minor=ticket.price_minor,
        currency=ticket.currency,
        description=_("Ticket: %(title)s") % {"title": title},
        success_url=success_url,
        failure_url=failure_url,
        idempotency_key=f"events-ticket:{ticket.pk}:{attempt}",
    )
    with transaction.atomic():
        ticket = _reserved(user=user, ticket_id=ticket_id)
        if ticket.payment_attempts == attempt:
            ticket.order_id = order.id
            ticket.checkout_url = order.checkout_url or ""
            ticket.save(update_fields=["order_id", "checkout_url", "updated_at"])
        return ticket


def _ticket_for(order_event: OrderEvent) -> Ticket | None:
    ticket = Ticket.objects.filter(pk=order_event.reference).first()
    if ticket is None:
        return None
    event_locked(event_id=ticket.event_id)  # places move under the event's lock
    return (
        Ticket.objects.select_for_update(of=("self",))
        .select_related("holder", "event")
        .get(pk=ticket.pk)
    )


def on_ticket_paid(order_event: OrderEvent) -> None:
    """Confirm the ticket. Paid after the hold lapsed: confirmed if a place is still free,
    else refunded; paid for a ticket given up meanwhile: refunded."""
    from tessera.events.tasks import ticket_refund

    at = now()
    ticket = _ticket_for(order_event)
    if ticket is None or ticket.status == sm.VALID:
        return
    event = ticket.event
    ticket.order_id = order_event.order_id
    if ticket.status == sm.RESERVED:
        ticket_confirm(ticket=ticket, event=event, now=at)
        return
    if ticket.status == sm.EXPIRED and event.status == sm.PUBLISHED and event.places_left > 0:
        place_take(event)
        ticket_confirm(ticket=ticket, event=event, now=at)
        return
    # Revoked (given up, event cancelled) or expired with no place left: pay it back.
    ticket.refund_requested_at = at
    ticket.save(update_fields=["order_id", "refund_requested_at", "updated_at"])
    enqueue_on_commit(ticket_refund, ticket_id=str(ticket.pk))
    tell(
        users=[ticket.holder],
        kind="events.payment_refunded",
        event=event,
        data={"ticketId": str(ticket.pk)},
    )


def on_ticket_payment_failed(order_event: OrderEvent) -> None:
    """The order failed, was cancelled or expired: the place stays held until the hold
    lapses, and the next checkout makes a new order."""
    ticket = _ticket_for(order_event)
    if ticket is None or ticket.order_id != order_event.order_id:
        return
    ticket.order_id = None
    ticket.checkout_url = ""
    ticket.payment_attempts += 1
    ticket.save(update_fields=["order_id", "checkout_url", "payment_attempts", "updated_at"])


def on_ticket_refunded(order_event: OrderEvent) -> None:
    ticket = _ticket_for(order_event)
    if ticket is None:
        return
    ticket.refunded_minor = min(
        ticket.price_minor, max(ticket.refunded_minor, order_event.refunded_minor)
    )
    ticket.save(update_fields=["refunded_minor", "updated_at"])


def ticket_refund_now(*, ticket_id: Any) -> None:
    """Ask the payments layer for the refund (from a task; one refund per ticket by key)."""
    ticket = Ticket.objects.filter(pk=ticket_id).first()
    if ticket is None or ticket.order_id is None or ticket.refund_requested_at is None:
        return
    payments.payment_refund(
        order_id=ticket.order_id,
        amount_minor=None,
        reason=ticket.revoke_reason or "ticket_refund",
        idempotency_key=f"events-ticket-refund:{ticket.pk}",
    )


def order_cancel_now(*, order_id: Any) -> None:
    payments.payment_order_cancel(order_id=order_id, reason="ticket_released")


class TicketPayments(PaymentHandler):
    def on_order_paid(self, event: OrderEvent) -> None:
        on_ticket_paid(event)

    def on_order_failed(self, event: OrderEvent) -> None:
        on_ticket_payment_failed(event)

    def on_order_refunded(self, event: OrderEvent) -> None:
        on_ticket_refunded(event)
