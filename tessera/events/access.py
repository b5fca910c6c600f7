"""Who may see or work an event: reads that both the selectors and the services ask.

They live below both layers (they read models only), so a selector that checks access does
not reach up into the services.
"""

from __future__ import annotations

from typing import Any

from tessera.accounts.models import User
from tessera.events import statemachine as sm
from tessera.events.errors import EventNotFoundError
from tessera.events.models import Event, EventHelper, Invite, Ticket, Visibility


def is_host(event: Event, user: User) -> bool:
    return bool(event.host_id == user.pk)


def is_helper(event: Event, user: User) -> bool:
    return EventHelper.objects.filter(event=event, user_id=user.pk).exists()


def can_see(event: Event, user: User) -> bool:
    """Who can see an event: its host; anyone, once a public one is out of draft; for a
    private one, the people invited, holding a ticket or asked to help."""
    if is_host(event, user):
        return True
    if event.status == sm.DRAFT:
        return False
    if event.visibility == Visibility.PUBLIC:
        return True
    return (
        Invite.objects.filter(event=event, invitee_id=user.pk).exists()
        or Ticket.objects.filter(event=event, holder_id=user.pk).exists()
        or EventHelper.objects.filter(event=event, user_id=user.pk).exists()
    )


def door_event(*, user: User, event_id: Any) -> Event:
    """The event, for its host or a helper they named; anyone else gets a 404."""
    event = Event.objects.filter(pk=event_id).first()
    if event is None or not (is_host(event, user) or is_helper(event, user)):
        raise EventNotFoundError
    return event
