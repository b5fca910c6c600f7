"""Helpers shared by the event services: the clock, locked reads, who may do what, places."""

from __future__ import annotations

import zoneinfo
from datetime import datetime
from functools import lru_cache
from typing import Any

import phonenumbers
from django.core.exceptions import ValidationError
from django.core.validators import validate_email
from django.db.models import F
from django.utils import timezone
from django.utils.translation import gettext as _

from tessera.accounts.models import User
from tessera.core.errors import InvalidInputError
from tessera.events.access import can_see, is_host
from tessera.events.errors import (
    EventFullError,
    EventNotFoundError,
    StateError,
    TimezoneInvalidError,
)
from tessera.events.models import Event

UNSET: Any = object()


def now() -> datetime:
    return timezone.now()


@lru_cache(maxsize=1)
def _zones() -> frozenset[str]:
    return frozenset(zoneinfo.available_timezones())


def timezone_checked(name: str) -> str:
    if name not in _zones():
        raise TimezoneInvalidError(fields={"timezone": _("Unknown time zone.")})
    return name


def email_checked(email: str, *, field: str) -> str:
    email = email.strip().lower()
    try:
        validate_email(email)
    except ValidationError:
        raise InvalidInputError(
            _("The email address is not valid."), fields={field: _("Not a valid email address.")}
        ) from None
    return email


def phone_checked(phone: str, *, field: str) -> str:
    """`phone` in canonical E.164 (the form accounts store), or a 422 on `field`."""
    text = phone.strip()
    try:
        parsed = phonenumbers.parse(text, None) if text.startswith("+") else None
    except phonenumbers.NumberParseException:
        parsed = None
    if parsed is None or not phonenumbers.is_valid_number(parsed):
        raise InvalidInputError(
            _("The phone number is not valid."),
            fields={field: _("Use the international form, for example +27821234567.")},
        )
    return phonenumbers.format_number(parsed, phonenumbers.PhoneNumberFormat.E164)


def event_locked(*, event_id: Any) -> Event:
    """The event under a row lock: every change to its places is made holding it."""
    event = (
        Event.objects.select_for_update(of=("self",))
        .select_related("host")
        .filter(pk=event_id)
        .first()
    )
    if event is None:
        raise EventNotFoundError
    return event


def event_hosted(*, host: Any, event_id: Any) -> Event:
    """The host's own event, locked; anyone else's is a 404."""
    event = event_locked(event_id=event_id)
    if not is_host(event, host):
        raise EventNotFoundError
    return event


def event_visible_locked(*, user: User, event_id: Any) -> Event:
    event = event_locked(event_id=event_id)
    if not can_see(event, user):
        raise EventNotFoundError
    return event


def require_event_state(event: Event, *states: str) -> None:
    if event.status not in states:
        raise StateError(entity="event", state=str(event.status))


def place_take(event: Event) -> None:
    """Take one place of a locked event, or refuse when none is left. The check constraint
    `event_places_within_capacity` holds this even against a caller without the lock."""
    if event.places_taken >= event.capacity:
        raise EventFullError
    Event.objects.filter(pk=event.pk).update(places_taken=F("places_taken") + 1)
    event.places_taken += 1


def place_free(event: Event) -> None:
    Event.objects.filter(pk=event.pk, places_taken__gt=0).update(places_taken=F("places_taken") - 1)
    event.places_taken = max(0, event.places_taken - 1)
