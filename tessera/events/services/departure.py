"""A deleted account's part in events (accounts erases the person and keeps the row).

The events they host that have not happened yet are cancelled as the host would cancel them
(everyone told, paid tickets refunded in full, places given back), so nobody waits for an
event whose host is gone. Their own requests and places at other events are given up as
they would give them up (refunded when inside the refund window, the waitlist promoted),
so no place is held by nobody and no scanner accepts a ticket of an erased person; they no
longer help at any door. Each event is its own transaction, and running it again finds
nothing left to do.
"""

from __future__ import annotations

from dataclasses import dataclass
from typing import Any

from django.db import transaction
from django.db.models import Q

from tessera.accounts.selectors import user_get_any
from tessera.core.context import ClientContext
from tessera.events import statemachine as sm
from tessera.events.models import Event, EventHelper, JoinRequest, Ticket
from tessera.events.services.common import event_locked, now
from tessera.events.services.events import event_cancel
from tessera.events.services.requests import place_give_up


@dataclass(frozen=True, slots=True)
class Departure:
    events_cancelled: int = 0
    places_given_up: int = 0
    helper_roles_ended: int = 0


def account_has_event_ties(*, user_id: Any) -> bool:
    """Whether a departure would find anything: one indexed probe per kind of tie."""
    return (
        Event.objects.filter(sm.EVENT.q_sources("cancel"), host_id=user_id).exists()
        or JoinRequest.objects.filter(sm.REQUEST.q_sources("cancel"), user_id=user_id).exists()
        or Ticket.objects.filter(holder_id=user_id, status__in=sm.TICKET_HOLDS_PLACE).exists()
        or EventHelper.objects.filter(user_id=user_id).exists()
    )


def account_departure(*, user_id: Any, client: ClientContext | None = None) -> Departure:
    user = user_get_any(user_id=user_id)
    if user is None or user.deleted_at is None:
        return Departure()
    hosted = list(
        Event.objects.filter(sm.EVENT.q_sources("cancel"), host=user).values_list("pk", flat=True)
    )
    for event_id in hosted:
        event_cancel(host=user, event_id=event_id, client=client)
    elsewhere = set(
        JoinRequest.objects.filter(sm.REQUEST.q_sources("cancel"), user=user).values_list(
            "event_id", flat=True
        )
    ) | set(
        Ticket.objects.filter(holder=user, status__in=sm.TICKET_HOLDS_PLACE).values_list(
            "event_id", flat=True
        )
    )
    given_up = 0
    for event_id in sorted(elsewhere, key=str):
        with transaction.atomic():
            event = event_locked(event_id=event_id)
            given_up += place_give_up(
                event=event, user=user, at=now(), by_host=False, reason="account_deleted"
            )
    helping, _ = EventHelper.objects.filter(Q(user=user)).delete()
    return Departure(
        events_cancelled=len(hosted), places_given_up=given_up, helper_roles_ended=helping
    )
