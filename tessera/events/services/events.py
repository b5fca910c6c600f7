"""Venues and events: create, edit, publish, postpone, cancel."""

from __future__ import annotations

from collections.abc import Sequence
from datetime import datetime, timedelta
from typing import Any

from django.db import transaction
from django.utils import timezone
from django.utils.translation import gettext as _

from tessera.accounts.selectors import event_interest_list
from tessera.audit.services import audit_record
from tessera.core.context import ClientContext
from tessera.core.errors import InvalidInputError, NotFoundError
from tessera.core.money import amount_parse, currency_check
from tessera.events import statemachine as sm
from tessera.events.discoverycache import discovery_changed
from tessera.events.errors import (
    CapacityInvalidError,
    CoordinatesInvalidError,
    EventStartInPastError,
    EventTimesInvalidError,
    LocationRequiredError,
    PriceLockedError,
    StateError,
)
from tessera.events.models import Event, JoinRequest, Ticket, Venue
from tessera.events.services.common import (
    UNSET,
    event_hosted,
    now,
    require_event_state,
    timezone_checked,
)
from tessera.events.services.notify import tell
from tessera.events.services.organisers import organiser_active_key
from tessera.events.services.requests import place_give_up, waitlist_promote
from tessera.files.purposes import Purpose
from tessera.files.selectors import file_get_attachable

MAX_LENGTH = timedelta(days=31)
MAX_AHEAD = timedelta(days=5 * 366)
# Changes attendees are told about.
_NOTEWORTHY = ("title", "starts_at", "ends_at", "timezone", "venue", "online_url")


def coordinates_checked(latitude: float, longitude: float) -> None:
    fields = {}
    if not -90 <= latitude <= 90:
        fields["latitude"] = _("Must be between -90 and 90.")
    if not -180 <= longitude <= 180:
        fields["longitude"] = _("Must be between -180 and 180.")
    if fields:
        raise CoordinatesInvalidError(fields=fields)


# --- Venues ---------------------------------------------------------------------------------


def venue_create(
    *,
    owner: Any,
    name: str,
    latitude: float,
    longitude: float,
    address: str = "",
    capacity: int | None = None,
) -> Venue:
    coordinates_checked(latitude, longitude)
    with transaction.atomic():
        venue = Venue(
            owner=owner,
            name=name.strip(),
            address=address.strip(),
            latitude=latitude,
            longitude=longitude,
            capacity=capacity,
        )
        venue.full_clean(exclude=["owner"])
        venue.save()
        return venue


def _owned_venue(*, owner: Any, venue_id: Any) -> Venue:
    venue = Venue.objects.select_for_update().filter(pk=venue_id, owner=owner).first()
    if venue is None:
        raise NotFoundError(_("The venue was not found."))
    return venue


def venue_update(*, owner: Any, venue_id: Any, **changes: Any) -> Venue:
    with transaction.atomic():
        venue = _owned_venue(owner=owner, venue_id=venue_id)
        for name, value in changes.items():
            setattr(venue, name, value.strip() if isinstance(value, str) else value)
        coordinates_checked(venue.latitude, venue.longitude)
        venue.full_clean(exclude=["owner"])
        venue.save()
        # Events keep the venue's position for discovery.
        Event.objects.filter(venue=venue).update(
            latitude=venue.latitude, longitude=venue.longitude, updated_at=now()
        )
        discovery_changed()  # its events' venue and position
        return venue


def venue_delete(*, owner: Any, venue_id: Any) -> None:
    with transaction.atomic():
        venue = _owned_venue(owner=owner, venue_id=venue_id)
        if (
            Event.objects.filter(venue=venue)
            .exclude(status__in=[sm.CANCELLED, sm.COMPLETED])
            .exists()
        ):
            raise StateError(
                entity="event",
                state=sm.PUBLISHED,
                message=_("Events still take place at this venue."),
            )
        venue.delete()
        discovery_changed()


# --- Events ---------------------------------------------------------------------------------


def _times_checked(starts_at: datetime, ends_at: datetime) -> None:
    naive = [
        name for name, t in (("startsAt", starts_at), ("endsAt", ends_at)) if timezone.is_naive(t)
    ]
    if naive:
        raise EventTimesInvalidError(
            _("Times must include a time zone offset (for example 2030-01-01T19:00+02:00)."),
            fields=dict.fromkeys(naive, _("A time zone offset is required.")),
        )
    if ends_at <= starts_at:
        raise EventTimesInvalidError(fields={"endsAt": _("Must be after the start.")})
    if ends_at - starts_at > MAX_LENGTH:
        raise EventTimesInvalidError(
            _("An event may last at most 31 days."),
            fields={"endsAt": _("At most 31 days after the start.")},
        )
    if not now() - MAX_AHEAD < starts_at < now() + MAX_AHEAD:
        raise EventTimesInvalidError(
            _("An event must start within 5 years of now."),
            fields={"startsAt": _("Within 5 years from now.")},
        )


def _price_checked(price: Any, currency: str | None) -> tuple[int, str]:
    if price in (None, "", "0", 0) and not currency:
        return 0, ""
    code = currency_check(currency or "", field="currency")
    minor = amount_parse(price if price is not None else "0", code, field="price", allow_zero=True)
    return minor, "" if minor == 0 else code


def _interests(ids: Sequence[Any]) -> list[Any]:
    unique = list(dict.fromkeys(str(i) for i in ids))
    found = {str(i.pk): i for i in event_interest_list().filter(pk__in=unique)}
    missing = [i for i in unique if i not in found]
    if missing:
        raise InvalidInputError(
            _("Unknown event interest."),
            fields={"interestIds": _("Unknown: %s") % ", ".join(missing)},
        )
    return [found[i] for i in unique]


def _place(event: Event, *, host: Any, venue_id: Any) -> None:
    if venue_id is None:
        event.venue = None
        event.latitude = event.longitude = None
        return
    venue = Venue.objects.filter(pk=venue_id, owner=host).first()
    if venue is None:
        raise InvalidInputError(
            _("The venue was not found."), fields={"venueId": _("Not one of your venues.")}
        )
    event.venue = venue
    event.latitude, event.longitude = venue.latitude, venue.longitude


def _event_checked(event: Event) -> None:
    _times_checked(event.starts_at, event.ends_at)
    if event.venue_id is None and not event.online_url:
        raise LocationRequiredError(fields={"venueId": _("A venue or an online link is required.")})
    if event.capacity < 1 or event.capacity < event.places_taken:
        raise CapacityInvalidError(
            fields={"capacity": _("At least %(n)d.") % {"n": max(1, event.places_taken)}}
        )
    venue = event.venue
    if venue is not None and venue.capacity is not None and event.capacity > venue.capacity:
        raise CapacityInvalidError(
            _("The capacity is above the venue's."),
            fields={"capacity": _("At most %(n)d at this venue.") % {"n": venue.capacity}},
        )
    event.full_clean(exclude=["host", "venue", "cover", "interests"])


def event_create(
    *,
    host: Any,
    title: str,
    starts_at: datetime,
    ends_at: datetime,
    capacity: int,
    description: str = "",
    timezone_name: str = "UTC",
    venue_id: Any = None,
    online_url: str = "",
    price: Any = None,
    currency: str | None = None,
    visibility: str = "public",
    requires_approval: bool = True,
    interest_ids: Sequence[Any] = (),
    cover_id: Any = None,
) -> Event:
    """A new event in DRAFT, visible to its host only until published (so discovery's kept
    pages stand: publishing retires them)."""
    price_minor, code = _price_checked(price, currency)
    with transaction.atomic():
        event = Event(
            host=host,
            title=title.strip(),
            description=description,
            starts_at=starts_at,
            ends_at=ends_at,
            timezone=timezone_checked(timezone_name),
            capacity=capacity,
            online_url=online_url,
            price_minor=price_minor,
            currency=code,
            visibility=visibility,
            requires_approval=requires_approval,
        )
        _place(event, host=host, venue_id=venue_id)
        if cover_id is not None:
            event.cover = file_get_attachable(
                owner=host, file_id=cover_id, purpose=Purpose.EVENT_COVER
            )
        _event_checked(event)
        event.save()
        event.interests.set(_interests(interest_ids))
        return event


def event_update(*, host: Any, event_id: Any, **changes: Any) -> Event:
    """Edit an event that is not over; attendees hear about the changes that matter to
    them, and freed capacity goes to the waitlist."""
    at = now()
    with transaction.atomic():
        event = event_hosted(host=host, event_id=event_id)
        require_event_state(event, *sm.EVENT_EDITABLE)
        before = {name: getattr(event, name) for name in _NOTEWORTHY}
        price = changes.pop("price", UNSET)
        currency = changes.pop("currency", UNSET)
        if price is not UNSET or currency is not UNSET:
            minor, code = _price_checked(
                event.price_minor if price is UNSET else price,
                event.currency if currency is UNSET else currency,
            )
            if (minor, code) != (event.price_minor, event.currency):
                if Ticket.objects.filter(event=event).exists():
                    raise PriceLockedError
                event.price_minor, event.currency = minor, code
        if "timezone_name" in changes:
            event.timezone = timezone_checked(changes.pop("timezone_name"))
        if "venue_id" in changes:
            _place(event, host=host, venue_id=changes.pop("venue_id"))
        if "interest_ids" in changes:
            event.interests.set(_interests(changes.pop("interest_ids")))
        if "cover_id" in changes:
            cover_id = changes.pop("cover_id")
            event.cover_id = (
                file_get_attachable(owner=host, file_id=cover_id, purpose=Purpose.EVENT_COVER).pk
                if cover_id
                else None
            )
        for name, value in changes.items():
            setattr(event, name, value.strip() if name == "title" else value)
        _event_checked(event)
        if event.status == sm.PUBLISHED and "starts_at" in changes and event.starts_at <= at:
            raise EventStartInPastError(fields={"startsAt": _("Must be in the future.")})
        if "starts_at" in changes and event.starts_at != before["starts_at"]:
            event.reminded_at = None
        event.save()
        discovery_changed()
        waitlist_promote(event=event, at=at)
        changed = [name for name in _NOTEWORTHY if getattr(event, name) != before[name]]
        if changed and event.status == sm.PUBLISHED:
            _tell_people(event, "events.changed")
        return event


def _people(event: Event) -> list[Any]:
    """Everyone an event's news is for: ticket holders and pending requesters."""
    holders = Ticket.objects.filter(event=event, status__in=list(sm.TICKET_HOLDS_PLACE)).values(
        "holder_id"
    )
    waiting = JoinRequest.objects.filter(event=event, status=sm.PENDING).values("user_id")
    from tessera.accounts.selectors import user_get

    ids = {row["holder_id"] for row in holders} | {row["user_id"] for row in waiting}
    return [u for u in (user_get(user_id=i) for i in ids) if u is not None]


def _tell_people(event: Event, kind: str, people: list[Any] | None = None) -> None:
    """Fan-out to many people runs in a task, after commit (not in the host's request)."""
    from tessera.core.jobs import enqueue_on_commit
    from tessera.events.tasks import event_tell_people

    ids = [str(p.pk) for p in (people if people is not None else _people(event))]
    if ids:
        enqueue_on_commit(event_tell_people, event_id=str(event.pk), kind=kind, user_ids=ids)


def event_tell_people_now(*, event_id: Any, kind: str, user_ids: Sequence[Any]) -> int:
    from tessera.accounts.selectors import user_get

    event = Event.objects.select_related("venue").filter(pk=event_id).first()
    if event is None:
        return 0
    users = [u for u in (user_get(user_id=i) for i in user_ids) if u is not None]
    with transaction.atomic():
        return tell(users=users, kind=kind, event=event)


def event_publish(*, host: Any, event_id: Any, client: ClientContext | None = None) -> Event:
    """DRAFT or POSTPONED → PUBLISHED; the start must be ahead. Republishing a postponed
    event tells its people the new dates."""
    at = now()
    with transaction.atomic():
        event = event_hosted(host=host, event_id=event_id)
        if not sm.EVENT.allows("publish", str(event.status)):
            raise StateError(entity="event", state=str(event.status))
        if event.starts_at <= at:
            raise EventStartInPastError(fields={"startsAt": _("Must be in the future.")})
        was = str(event.status)
        organiser_active_key(host)  # tickets can be signed from now on
        event.publish(now=at)
        event.save()
        discovery_changed()
        audit_record(action="events.event.published", actor=host, target=event, client=client)
        if was == sm.POSTPONED:
            _tell_people(event, "events.changed")
        return event


def event_postpone(*, host: Any, event_id: Any, client: ClientContext | None = None) -> Event:
    """PUBLISHED → POSTPONED: places and tickets stay; the new dates come with publishing."""
    with transaction.atomic():
        event = event_hosted(host=host, event_id=event_id)
        if not sm.EVENT.allows("postpone", str(event.status)):
            raise StateError(entity="event", state=str(event.status))
        event.postpone()
        event.save()
        discovery_changed()
        audit_record(action="events.event.postponed", actor=host, target=event, client=client)
        _tell_people(event, "events.postponed")
        return event


def event_cancel(*, host: Any, event_id: Any, client: ClientContext | None = None) -> Event:
    """→ CANCELLED: every place is given back, paid tickets are refunded in full, unpaid
    orders are cancelled, and everyone is told."""
    at = now()
    with transaction.atomic():
        event = event_hosted(host=host, event_id=event_id)
        if not sm.EVENT.allows("cancel", str(event.status)):
            raise StateError(entity="event", state=str(event.status))
        people = _people(event)
        event.cancel(now=at)
        event.save()
        discovery_changed()
        for holder in {
            t.holder
            for t in Ticket.objects.select_related("holder").filter(
                event=event, status__in=list(sm.TICKET_HOLDS_PLACE)
            )
        }:
            place_give_up(event=event, user=holder, at=at, by_host=True, reason="event_cancelled")
        # The pending ones (and the waitlist) end with the event: the request table's
        # "cancel" move, made for all of them at once.
        JoinRequest.objects.filter(sm.REQUEST.q_sources("cancel"), event=event).update(
            status=sm.REQUEST.transition("cancel").target,
            waitlisted_at=None,
            decided_at=at,
            updated_at=at,
        )
        audit_record(
            action="events.event.cancelled",
            actor=host,
            target=event,
            changes={"people": len(people)},
            client=client,
        )
        _tell_people(event, "events.cancelled", people)
        return event
