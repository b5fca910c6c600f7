"""Reads of the events module: discovery, one event as its viewer sees it, the lists of
the host, of requesters and of ticket holders, the ticket's secret and the public keys."""

from __future__ import annotations

import base64
import binascii
import math
from collections.abc import Mapping
from contextlib import nullcontext
from dataclasses import dataclass
from datetime import UTC, datetime, timedelta
from functools import lru_cache
from typing import TYPE_CHECKING, Any, NamedTuple, cast
from uuid import UUID

import orjson
from django.conf import settings
from django.contrib.postgres.search import SearchQuery
from django.db import connection, connections, router
from django.db.models import (
    DateTimeField,
    Exists,
    ExpressionWrapper,
    F,
    FloatField,
    OuterRef,
    Prefetch,
    Q,
    QuerySet,
)
from django.db.models.expressions import RawSQL
from django.utils import timezone
from django.utils.dateparse import parse_datetime
from django.utils.translation import gettext as _

from tessera.accounts.models import User
from tessera.core import statements
from tessera.core.context import ClientContext
from tessera.core.dbrouter import primary_reads
from tessera.core.envelope import dumps
from tessera.core.errors import CoreErrorCode, InvalidCursorError, InvalidInputError, NotFoundError
from tessera.core.money import amount_format, amount_parse, currency_check
from tessera.core.pagination import cursor_sign, cursor_unsign
from tessera.events import discoverycache, keys
from tessera.events import statemachine as sm
from tessera.events import tickets as codes
from tessera.events.access import can_see, door_event
from tessera.events.errors import CoordinatesInvalidError, EventNotFoundError, RadiusInvalidError
from tessera.events.models import (
    Attendance,
    CheckIn,
    Event,
    EventHelper,
    Invite,
    JoinRequest,
    OrganiserKey,
    Ticket,
    Visibility,
    is_free_price,
    places_left_of,
)

if TYPE_CHECKING:
    from tessera.files.models import StoredFile

EARTH_RADIUS_KM = 6371.0088
KM_PER_DEGREE = 111.195  # along a meridian, on that sphere


def _interest_prefetch() -> Prefetch:
    from tessera.accounts.selectors import event_interest_list

    # As a plain list (`to_attr`): for a queryset of its own, Django would build each event a
    # related manager and filter that queryset again per event, ~0.3 ms of a 20-event page.
    return Prefetch("interests", queryset=event_interest_list(), to_attr="interest_list")


def _related_columns(name: str) -> tuple[str, ...]:
    model: Any = Event._meta.get_field(name).related_model
    return tuple(f"{name}__{f.name}" for f in model._meta.concrete_fields)


# What `event_view` (and `can_see`) read of an event and its venue: a reply never shows the
# tsvector (for the database alone), the bookkeeping times (updated, published, cancelled,
# reminded) or the venue's owner and times. Reading an unselected field loads it with a query
# of its own, so a field `event_view` starts to show must be added here
# (test_discovery's statement-count tests catch one that is not).
EVENT_REPLY_FIELDS = (
    "id",
    "host_id",
    "title",
    "description",
    "cover_id",
    "venue_id",
    "online_url",
    "latitude",
    "longitude",
    "starts_at",
    "ends_at",
    "timezone",
    "capacity",
    "places_taken",
    "price_minor",
    "currency",
    "visibility",
    "requires_approval",
    "status",
    "created_at",
)
VENUE_REPLY_FIELDS = ("id", "name", "address", "latitude", "longitude", "capacity")


@lru_cache(maxsize=1)
def _event_columns() -> tuple[str, ...]:
    # Of the host, only what a reply shows (the rest of a user row is ~20 columns per event);
    # the cover's row whole: how a file is shown is the files module's (`file_ref`).
    return (
        *EVENT_REPLY_FIELDS,
        "host__id",
        "host__name",
        *(f"venue__{name}" for name in VENUE_REPLY_FIELDS),
        *_related_columns("cover"),
    )


def events_with_relations(queryset: QuerySet[Event]) -> QuerySet[Event]:
    """Events with everything a reply shows, in a fixed number of queries whatever the
    page's size: venue, host and cover joined; interests and the cover's variants
    prefetched (one query each, none when no event on the page has a cover)."""
    return (
        queryset.select_related("venue", "host", "cover")
        .only(*_event_columns())
        .prefetch_related(_interest_prefetch(), "cover__variants")
    )


# --- Discovery ------------------------------------------------------------------------------


@dataclass(frozen=True)
class Discovery:
    text: str | None = None
    interest_ids: tuple[UUID, ...] = ()
    starts_after: datetime | None = None
    starts_before: datetime | None = None
    latitude: float | None = None
    longitude: float | None = None
    radius_km: float | None = None
    price_min: str | None = None
    price_max: str | None = None
    currency: str | None = None
    free_only: bool = False
    cursor: str | None = None
    page_size: int | None = None


@dataclass(frozen=True)
class EventPage:
    items: list[Event] | list[DiscoveryRow]
    next_cursor: str | None


_CURSOR_SALT = "tessera.events.discovery-cursor"


def _cursor_decode(cursor: str) -> tuple[str, datetime, UUID]:
    # Signed like every cursor (tessera.core.pagination): a forged or altered one is refused
    # before its content is read.
    value = cursor_unsign(cursor, salt=_CURSOR_SALT)
    when: datetime | None = None
    mode = ""
    try:
        raw = base64.urlsafe_b64decode(value + "=" * (-len(value) % 4)).decode()
        mode, when_text, id_text = raw.split("|", 2)
        when = parse_datetime(when_text)
        last_id = UUID(id_text)
    except (ValueError, binascii.Error, UnicodeDecodeError):
        when = None
    if when is None or timezone.is_naive(when):
        raise InvalidCursorError
    return mode, when, last_id


def _cursor_encode(event: Event | DiscoveryRow, mode: str) -> str:
    raw = f"{mode}|{event.starts_at.isoformat()}|{event.pk}".encode()
    return cursor_sign(base64.urlsafe_b64encode(raw).rstrip(b"=").decode(), salt=_CURSOR_SALT)


# Haversine distance from a point (radians, bound) to each event's position, in SQL on both
# databases (Django gives SQLite these functions). Written out once rather than composed from
# ORM functions, only to filter the box's rows.
_DISTANCE_SQL = (
    "%s * ASIN(SQRT(POWER(SIN((RADIANS({t}.latitude) - %s) / 2), 2) + "
    "COS(%s) * COS(RADIANS({t}.latitude)) * POWER(SIN((RADIANS({t}.longitude) - %s) / 2), 2)))"
)
_TWO_R = 2 * EARTH_RADIUS_KM


def _distance_km(two_r: float, lat1: float, lng1: float) -> RawSQL:
    sql = _DISTANCE_SQL.format(t=connection.ops.quote_name(Event._meta.db_table))
    # The SQL is fixed above; the point's values are bound parameters.
    return RawSQL(sql, (two_r, lat1, lat1, lng1), output_field=FloatField())  # noqa: S611


def distance_between(lat1: float, lng1: float, lat2: float, lng2: float) -> float:
    """The same haversine in Python: for the page's events only, after the query."""
    p1, p2, dlng = math.radians(lat1), math.radians(lat2), math.radians(lng2 - lng1)
    half = math.sin((p2 - p1) / 2) ** 2 + math.cos(p1) * math.cos(p2) * math.sin(dlng / 2) ** 2
    return 2 * EARTH_RADIUS_KM * math.asin(math.sqrt(half))


# A bounding box: its kind, then south, north, west, east.
Box = tuple[str, float, float, float, float]
ALL_LONGITUDES, WITHIN, ACROSS = "all", "within", "across"  # across: the antimeridian


def _bounding_box(latitude: float, longitude: float, radius_km: float) -> Box:
    """Rows that may be within the radius, by the indexed columns alone."""
    dlat = radius_km / KM_PER_DEGREE
    south, north = max(-90.0, latitude - dlat), min(90.0, latitude + dlat)
    cos_lat = math.cos(math.radians(min(89.9, abs(latitude) + dlat)))
    dlng = radius_km / (KM_PER_DEGREE * cos_lat) if cos_lat > 0 else 360.0
    if dlng >= 180:
        return ALL_LONGITUDES, south, north, 0.0, 0.0
    west, east = longitude - dlng, longitude + dlng
    if west < -180:  # the box crosses the antimeridian
        return ACROSS, south, north, west + 360, east
    if east > 180:
        return ACROSS, south, north, west, east - 360
    return WITHIN, south, north, west, east


def _box_q(box: Box) -> Q:
    kind, south, north, west, east = box
    rows = Q(latitude__gte=south, latitude__lte=north)
    if kind == ALL_LONGITUDES:
        return rows & Q(longitude__isnull=False)
    if kind == ACROSS:
        return rows & (Q(longitude__gte=west) | Q(longitude__lte=east))
    return rows & Q(longitude__gte=west, longitude__lte=east)


WORDS, SIMILAR, LIKE = "w", "s", "l"


def _text(queryset: QuerySet[Event], text: str, mode: str) -> QuerySet[Event]:
    """Words (full text on the stored, GIN-indexed tsvector); or, the fallback, titles with a
    word similar to the text (pg_trgm word similarity, GIN-indexed): a misspelt or partial
    word. SQLite: a plain case-insensitive substring."""
    if mode == WORDS:
        return queryset.filter(
            search_document=SearchQuery(text, config="simple", search_type="websearch")
        )
    if mode == SIMILAR:
        return queryset.filter(title__trigram_word_similar=text)
    return queryset.filter(Q(title__icontains=text) | Q(description__icontains=text))


def discovery_checked(d: Discovery) -> None:
    point = (d.latitude, d.longitude, d.radius_km)
    if any(v is not None for v in point) and any(v is None for v in point):
        raise InvalidInputError(
            _("Give lat, lng and radiusKm together."),
            fields={"radiusKm": _("lat, lng and radiusKm go together.")},
        )
    if d.latitude is not None and d.longitude is not None:
        fields = {}
        if not -90 <= d.latitude <= 90:
            fields["lat"] = _("Must be between -90 and 90.")
        if not -180 <= d.longitude <= 180:
            fields["lng"] = _("Must be between -180 and 180.")
        if fields:
            raise CoordinatesInvalidError(fields=fields)
    if d.radius_km is not None and not 0 < d.radius_km <= settings.EVENTS_MAX_RADIUS_KM:
        raise RadiusInvalidError(
            fields={
                "radiusKm": _("Above 0 and at most %(max)s km.")
                % {"max": settings.EVENTS_MAX_RADIUS_KM}
            }
        )
    after, before = d.starts_after, d.starts_before
    naive = [name for name, t in (("from", after), ("to", before)) if t and timezone.is_naive(t)]
    if naive:
        raise InvalidInputError(
            _("A time zone offset is required."),
            code=CoreErrorCode.INVALID_QUERY_PARAMETER,
            fields=dict.fromkeys(naive, _("A time zone offset is required.")),
        )
    if after is not None and before is not None and before <= after:
        raise InvalidInputError(
            _("The date range is empty."), fields={"to": _("Must be after from.")}
        )


# Words without a point that match fewer events than this are read from the GIN index and
# sorted; more, and walking the start index in page order finds a page's worth soonest.
# The planner cannot tell which (it takes words' frequencies as independent): with rare or
# absent words it walked the start index through every event (70-140 ms at 100,000 events,
# decision 0036), so a bounded count of the matches decides (1-2 ms), and a start it cannot
# read from an index keeps the page off that walk. No match at all goes straight to the
# similar-word fallback.
_FEW_MATCHES = 500
_ZERO = timedelta(0)


@dataclass(frozen=True)
class _Search:
    """A discovery's filters as checked values: what its page's query is built from, with a
    request's values or (compiling its statement, `_STAND_INS`) stand-ins in their place."""

    after: datetime
    before: datetime | None = None
    interests: Any = None  # the ids (or, compiling, an expression giving them)
    free_only: bool = False
    currency: str | None = None  # with a price range
    price_min: int | None = None
    price_max: int | None = None
    box: Box | None = None
    two_r: float = _TWO_R
    point: tuple[float, float] = (0.0, 0.0)  # radians, with a box
    radius_km: float = 0.0
    text: str = ""
    cursor_at: datetime | None = None
    cursor_id: UUID | None = None
    zero: timedelta = _ZERO

    def shape(self) -> tuple[Any, ...]:
        """What decides the statement's text (not its values)."""
        return (
            bool(self.text),
            self.before is not None,
            self.interests is not None,
            self.free_only,
            self.currency is not None,
            self.price_min is not None,
            self.price_max is not None,
            self.box[0] if self.box is not None else None,
            self.cursor_at is not None,
        )


def _search_of(d: Discovery, mode: str) -> tuple[_Search, str]:
    """The checked values of `d` (prices in minor units, the cursor decoded), and the text's
    mode (a cursor keeps its first page's)."""
    currency = price_min = price_max = None
    if not d.free_only and (d.price_min is not None or d.price_max is not None):
        currency = currency_check(d.currency or "", field="currency")
        if d.price_min is not None:
            price_min = amount_parse(d.price_min, currency, field="priceMin", allow_zero=True)
        if d.price_max is not None:
            price_max = amount_parse(d.price_max, currency, field="priceMax", allow_zero=True)
    box = None
    point = (0.0, 0.0)
    if d.latitude is not None and d.longitude is not None and d.radius_km is not None:
        box = _bounding_box(d.latitude, d.longitude, d.radius_km)
        point = (math.radians(d.latitude), math.radians(d.longitude))
    cursor_at = cursor_id = None
    if d.cursor:
        given, cursor_at, cursor_id = _cursor_decode(d.cursor)
        if given not in ({mode, SIMILAR} if mode == WORDS else {mode}):
            raise InvalidInputError(
                _("The cursor is not valid."),
                code=CoreErrorCode.INVALID_CURSOR,
                fields={"cursor": _("The cursor belongs to another search.")},
            )
        mode = given
    search = _Search(
        after=d.starts_after or timezone.now(),
        before=d.starts_before,
        interests=d.interest_ids or None,
        free_only=d.free_only,
        currency=currency,
        price_min=price_min,
        price_max=price_max,
        box=box,
        point=point,
        radius_km=d.radius_km or 0.0,
        text=d.text or "",
        cursor_at=cursor_at,
        cursor_id=cursor_id,
    )
    return search, mode


def _discovery_queryset(s: _Search, mode: str) -> QuerySet[Event]:
    """Public, published events that match `s`: the one place discovery's filters are
    written (the page's statement is compiled from here too)."""
    queryset = Event.objects.filter(status=sm.PUBLISHED, visibility=Visibility.PUBLIC)
    queryset = queryset.filter(starts_at__gte=s.after)
    if s.before is not None:
        queryset = queryset.filter(starts_at__lt=s.before)
    if s.interests is not None:
        through = Event.interests.through
        queryset = queryset.filter(
            Exists(
                through.objects.filter(event_id=OuterRef("pk"), eventinterest_id__in=s.interests)
            )
        )
    if s.free_only:
        queryset = queryset.filter(price_minor=0)
    elif s.currency is not None:
        queryset = queryset.filter(Q(price_minor=0) | Q(currency=s.currency))
        if s.price_min is not None:
            queryset = queryset.filter(price_minor__gte=s.price_min)
        if s.price_max is not None:
            queryset = queryset.filter(price_minor__lte=s.price_max)
    if s.box is not None:
        queryset = queryset.filter(_box_q(s.box))
        queryset = queryset.alias(distance=_distance_km(s.two_r, *s.point)).filter(
            distance__lte=s.radius_km
        )
    if s.cursor_at is not None:
        queryset = queryset.filter(
            Q(starts_at__gt=s.cursor_at) | Q(starts_at=s.cursor_at, id__gt=s.cursor_id)
        )
    if s.text and mode:
        queryset = _text(queryset, s.text, mode)
    return queryset


def _ordered(queryset: QuerySet[Event], s: _Search, *, few: bool) -> QuerySet[Event]:
    if few:  # a start no index gives: the matches are read from the GIN index and sorted
        start = ExpressionWrapper(F("starts_at") + s.zero, output_field=DateTimeField())
        return queryset.order_by(start.asc(), "id")
    return queryset.order_by("starts_at", "id")


# Where a page is one statement compiled once per shape (below); elsewhere the ORM builds it.
COMPILED_ON = frozenset({"postgresql"})


def event_discover(d: Discovery) -> EventPage:
    """Public, published events, soonest first, by keyset pages of (start, id)."""
    discovery_checked(d)
    size = _page_size(d)
    mode = (WORDS if connection.vendor == "postgresql" else LIKE) if d.text else ""
    search, mode = _search_of(d, mode)
    alias = router.db_for_read(Event)
    compiled = connections[alias].vendor in COMPILED_ON

    def page(mode: str) -> list[Any]:
        few = False
        if mode == WORDS and search.box is None:  # with a point, the box is read first anyway
            if compiled:
                matches = _page_fetch(alias, search, mode, size=0, few=False)[0][0]
            else:
                found = _discovery_queryset(search, mode)
                matches = found.order_by()[:_FEW_MATCHES].count()
            if matches == 0:
                return []
            few = matches < _FEW_MATCHES
        if compiled:
            return [
                DiscoveryRow(row) for row in _page_fetch(alias, search, mode, size=size, few=few)
            ]
        found = _ordered(_discovery_queryset(search, mode), search, few=few)
        return list(events_with_relations(found)[: size + 1])

    rows = page(mode)
    if not rows and mode == WORDS and not d.cursor:
        # No event has these words: look for titles with a similar word instead.
        mode = SIMILAR
        rows = page(mode)
    more = len(rows) > size
    items = rows[:size]
    if compiled:
        _covers_attach(items)
    if d.latitude is not None and d.longitude is not None:
        for event in items:
            event.distance_km = distance_between(
                d.latitude, d.longitude, event.latitude or 0.0, event.longitude or 0.0
            )
    return EventPage(items=items, next_cursor=_cursor_encode(items[-1], mode) if more else None)


# --- Discovery's statement (PostgreSQL) -----------------------------------------------------
#
# On PostgreSQL a page is one statement compiled from `_discovery_queryset` once per shape
# (`statements.named_sql`), the interests aggregated in it, its rows read as tuples into
# `DiscoveryRow`s that `event_view` shapes as it shapes events: building and compiling the
# ORM's query, the interests' prefetch and the model instances cost ~4.5 ms of CPU a page
# (decision 0040). SQLite keeps the ORM's path; a test compares the two paths' replies byte
# for byte (tests/test_discovery_statement.py).

_STAND_INS: dict[str, Any] = {
    "after": datetime(1, 1, 1, 0, 0, 1, tzinfo=UTC),
    "before": datetime(1, 1, 1, 0, 0, 2, tzinfo=UTC),
    "cursor_at": datetime(1, 1, 1, 0, 0, 3, tzinfo=UTC),
    "cursor_id": UUID(int=0x7E55E7B1),
    "interests": [UUID(int=0x7E55E7B2)],
    "currency": "\x00currency",
    "price_min": -7_700_001,
    "price_max": -7_700_002,
    "south": -1234.5,
    "north": -1234.25,
    "west": -1234.125,
    "east": -1234.0625,
    "two_r": -1233.5,
    "lat1": -1232.5,
    "lng1": -1231.5,
    "radius_km": -1230.5,
    "text": "\x00text",
    "zero": timedelta(microseconds=-7_700_003),
}

# What a discovery item reads of an event, its host and its venue (`event_view`), in the
# order of `DiscoveryRow`; then its times and its interests (`_ROW_EXTRAS`).
_ROW_COLUMNS = (
    "id",
    "title",
    "description",
    "status",
    "visibility",
    "requires_approval",
    "timezone",
    "capacity",
    "places_taken",
    "price_minor",
    "currency",
    "online_url",
    "latitude",
    "longitude",
    "cover_id",
    "host_id",
    "host__name",
    "venue_id",
    "venue__name",
    "venue__address",
    "venue__latitude",
    "venue__longitude",
    "venue__capacity",
)
# The times as microseconds since the epoch (exact: `extract` gives a numeric): Django reads a
# timestamptz with psycopg's Python loader, ~0.4 ms of CPU for a page's 63 times.
_TIMES = ("starts_at", "ends_at", "created_at")
_EPOCH = datetime(1970, 1, 1, tzinfo=UTC)


def _row_extras() -> dict[str, RawSQL]:
    table = connection.ops.quote_name(Event._meta.db_table)
    extras = {
        f"{name}_us": RawSQL(f"(extract(epoch from {table}.{name}) * 1000000)::bigint", ())  # noqa: S611 - fixed SQL
        for name in _TIMES
    }
    extras["interests_json"] = RawSQL(_interests_sql(), ())  # noqa: S611 - fixed SQL
    return extras


@lru_cache(maxsize=1)
def _interests_sql() -> str:
    """An event's interests as `event_interest_list` gives them (active ones, by position and
    name), as a JSON array, for the outer query's event."""
    field: Any = Event._meta.get_field("interests")
    through = field.remote_field.through._meta.db_table
    interest = field.related_model._meta.db_table
    q = connection.ops.quote_name
    return (  # only names of this project's tables are interpolated
        "SELECT coalesce(json_agg(json_build_object('id', i.id, 'slug', i.slug, 'name', i.name, "  # noqa: S608
        f"'name_ar', i.name_ar) ORDER BY i.position, i.name), '[]')::text FROM {q(through)} t "
        f"JOIN {q(interest)} i ON i.id = t.eventinterest_id "
        f"WHERE t.event_id = {q(Event._meta.db_table)}.id AND i.is_active"
    )


def _stand_in_search(shape: tuple[Any, ...]) -> _Search:
    """A search of this shape with the stand-ins for its values."""
    text, before, interests, free_only, currency, price_min, price_max, box, cursor = shape
    at = _STAND_INS
    return _Search(
        after=at["after"],
        before=at["before"] if before else None,
        interests=RawSQL("SELECT unnest(%s::uuid[])", (at["interests"],)) if interests else None,
        free_only=free_only,
        currency=at["currency"] if currency else None,
        price_min=at["price_min"] if price_min else None,
        price_max=at["price_max"] if price_max else None,
        box=(box, at["south"], at["north"], at["west"], at["east"]) if box else None,
        two_r=at["two_r"],
        point=(at["lat1"], at["lng1"]),
        radius_km=at["radius_km"],
        text=at["text"] if text else "",
        cursor_at=at["cursor_at"] if cursor else None,
        cursor_id=at["cursor_id"] if cursor else None,
        zero=at["zero"],
    )


@lru_cache(maxsize=256)
def _page_statement(shape: tuple[Any, ...], mode: str, size: int, *, few: bool) -> str:
    """The page's statement for a search of this shape (`size=0`: its bounded count of
    matches instead)."""
    search = _stand_in_search(shape)
    found = _discovery_queryset(search, mode)
    if size == 0:
        counted = statements.named_sql(found.order_by().values("pk")[:_FEW_MATCHES], _STAND_INS)
        sql = f"SELECT count(*) FROM ({counted}) k"  # noqa: S608 - compiled above
    else:
        extras = _row_extras()
        rows = _ordered(found, search, few=few).annotate(**extras)
        sql = statements.named_sql(rows.values_list(*_ROW_COLUMNS, *extras)[: size + 1], _STAND_INS)
    # Spaces collapsed: psycopg caches the conversion of statements under 4 kB.
    return " ".join(sql.split())


def _page_fetch(
    alias: str, s: _Search, mode: str, *, size: int, few: bool
) -> list[tuple[Any, ...]]:
    sql = _page_statement(s.shape(), mode, size, few=few)
    return statements.fetch_all(alias, sql, _bound(s, sql))


def _bound(s: _Search, sql: str) -> dict[str, Any]:
    values: dict[str, Any] = {
        "after": s.after,
        "before": s.before,
        "cursor_at": s.cursor_at,
        "cursor_id": s.cursor_id,
        "interests": list(s.interests) if s.interests is not None else None,
        "currency": s.currency,
        "price_min": s.price_min,
        "price_max": s.price_max,
        "two_r": s.two_r,
        "lat1": s.point[0],
        "lng1": s.point[1],
        "radius_km": s.radius_km,
        "text": s.text,
        "zero": s.zero,
    }
    if s.box is not None:
        _, values["south"], values["north"], values["west"], values["east"] = s.box
    return {name: value for name, value in values.items() if f"%({name})s" in sql}


class _Person(NamedTuple):
    pk: Any
    name: str


class DiscoveryRow:
    """An event as discovery's statement reads it: what `event_view` reads of an `Event`
    (the venue as its reply's fields, the interests as the catalogue's), nothing more."""

    __slots__ = (
        "capacity",
        "cover",
        "cover_id",
        "created_at",
        "currency",
        "description",
        "distance_km",
        "ends_at",
        "host",
        "interest_list",
        "latitude",
        "longitude",
        "online_url",
        "pk",
        "places_taken",
        "price_minor",
        "requires_approval",
        "starts_at",
        "status",
        "timezone",
        "title",
        "venue",
        "visibility",
    )

    def __init__(self, row: tuple[Any, ...]) -> None:
        (
            self.pk,
            self.title,
            self.description,
            self.status,
            self.visibility,
            self.requires_approval,
            self.timezone,
            self.capacity,
            self.places_taken,
            self.price_minor,
            self.currency,
            self.online_url,
            self.latitude,
            self.longitude,
            self.cover_id,
            host_id,
            host_name,
            venue_id,
            venue_name,
            venue_address,
            venue_latitude,
            venue_longitude,
            venue_capacity,
            starts_us,
            ends_us,
            created_us,
            interests,
        ) = row
        self.starts_at = _EPOCH + timedelta(microseconds=starts_us)
        self.ends_at = _EPOCH + timedelta(microseconds=ends_us)
        self.created_at = _EPOCH + timedelta(microseconds=created_us)
        self.host = _Person(host_id, host_name)
        self.venue = (
            None
            if venue_id is None
            else {
                "id": venue_id,
                "name": venue_name,
                "address": venue_address,
                "latitude": venue_latitude,
                "longitude": venue_longitude,
                "capacity": venue_capacity,
            }
        )
        self.interest_list: list[dict[str, Any]] = orjson.loads(interests)
        self.cover: StoredFile | None = None
        self.distance_km: float | None = None

    @property
    def places_left(self) -> int:
        return places_left_of(capacity=self.capacity, places_taken=self.places_taken)

    @property
    def is_free(self) -> bool:
        return is_free_price(self.price_minor)


def _covers_attach(rows: list[DiscoveryRow]) -> None:
    """The page's covers (with their variants), one query when any event has one."""
    wanted = {row.cover_id for row in rows if row.cover_id is not None}
    if not wanted:
        return
    from tessera.files.selectors import files_for_refs

    found = files_for_refs(file_ids=wanted)
    for row in rows:
        if row.cover_id is not None:
            row.cover = found.get(row.cover_id)


# --- Discovery pages, kept ------------------------------------------------------------------


def _page_size(d: Discovery) -> int:
    return min(d.page_size or settings.API_PAGE_SIZE_DEFAULT, settings.API_PAGE_SIZE_MAX)


def _utc(when: datetime | None) -> str:
    return when.astimezone(UTC).isoformat() if when is not None else ""


def _number(value: float | None) -> str:
    return repr(float(value)) if value is not None else ""


def discovery_page_key(d: Discovery, *, base_url: str) -> str:
    """The cache key of the page `d` asks for, from its normal form: the same search written
    differently (interests in another order, a time in another zone, the default page size
    asked explicitly) is the same page. `base_url`: covers' links are absolute on the host
    the client reached us on."""
    normal_form = "\x1f".join(
        (
            d.text or "",
            ",".join(sorted({str(i) for i in d.interest_ids})),
            _utc(d.starts_after),
            _utc(d.starts_before),
            _number(d.latitude),
            _number(d.longitude),
            _number(d.radius_km),
            d.price_min or "",
            d.price_max or "",
            d.currency or "",
            "1" if d.free_only else "0",
            str(_page_size(d)),
            d.cursor or "",
            base_url,
        )
    )
    return discoverycache.page_key(normal_form)


_TRUE = frozenset({"1", "true", "t", "yes", "y", "on"})
_FALSE = frozenset({"0", "false", "f", "no", "n", "off"})


def _raw(query: Mapping[str, Any], *names: str) -> str | None:
    for name in names:
        value = query.get(name)
        if value is not None:
            return str(value)
    return None


def _raw_time(text: str | None) -> datetime | None:
    if not text:
        return None
    when = parse_datetime(text)
    if when is None or timezone.is_naive(when):
        raise ValueError(text)
    # The page's key is worked out in UTC: a time with no UTC equivalent is not a query
    # that parses (the schema then refuses it with a 422).
    when.astimezone(UTC)
    return when


def _raw_float(text: str | None) -> float | None:
    return float(text) if text else None


def discovery_from_query(query: Any) -> Discovery | None:
    """The search a raw query string (`request.GET`) asks for, read before the API validates
    it, for the authentication to fetch its page with the session (a guess: a query read
    differently here only costs a second cache round trip, never a wrong page, since the
    route looks up the key of what it validated). None when it does not parse."""
    try:
        free = (_raw(query, "free") or "false").lower()
        if free not in _TRUE | _FALSE:
            return None
        size = _raw(query, "pageSize", "page_size")
        getlist = getattr(query, "getlist", None)
        interests = getlist("interests") if getlist is not None else []
        return Discovery(
            text=(_raw(query, "q") or "").strip() or None,
            interest_ids=tuple(UUID(i) for i in interests),
            starts_after=_raw_time(_raw(query, "from")),
            starts_before=_raw_time(_raw(query, "to")),
            latitude=_raw_float(_raw(query, "lat")),
            longitude=_raw_float(_raw(query, "lng")),
            radius_km=_raw_float(_raw(query, "radiusKm", "radius_km")),
            price_min=_raw(query, "priceMin", "price_min"),
            price_max=_raw(query, "priceMax", "price_max"),
            currency=_raw(query, "currency"),
            free_only=free in _TRUE,
            cursor=_raw(query, "cursor"),
            page_size=int(size) if size else None,
        )
    except (ValueError, TypeError, OverflowError):
        return None


def discovery_cache_keys(*, query: Any, base_url: str) -> list[str]:
    """The keys `event_discover_body` will read for this raw query (`BearerAuth(prefetch=)`,
    docs/decisions/0037): the generation and the page; none with the cache off or a query
    that does not parse."""
    if not discoverycache.enabled():
        return []
    d = discovery_from_query(query)
    if d is None:
        return []
    return [discoverycache.GENERATION_KEY, discovery_page_key(d, base_url=base_url)]


def event_discover_body(
    d: Discovery, *, client: ClientContext, prefetched: Mapping[str, Any] | None = None
) -> bytes:
    """A discovery page as the API sends it (the `data` of the reply, JSON), kept in the
    cache for `EVENTS_DISCOVERY_CACHE_SECONDS` under the discovery generation
    (`discoverycache`). Built for no viewer in particular: discovery shows only public,
    published events, and their covers to anyone who may see them, so the page is the same
    whoever asks. `prefetched`: values the authentication read with the session."""
    from tessera.events.schemas import EventPageOut

    discovery_checked(d)  # a refused query is refused before the cache is asked
    keep = discoverycache.enabled()
    key = discovery_page_key(d, base_url=client.base_url) if keep else ""
    generation: str | None = None
    if keep:
        kept, generation = discoverycache.page_lookup(key, prefetched=prefetched)
        if kept is not None:
            return kept
    # A page to keep is read from the primary (with read replicas, 0019): a replica behind
    # a write would build it stale under the generation that write's bump already set.
    with primary_reads() if generation is not None else nullcontext():
        page = event_discover(d)
        items = [event_view(event, viewer=None, client=client) for event in page.items]
    # What Ninja would do with the route's response schema (validate, dump by alias), once.
    reply = EventPageOut.model_validate({"items": items, "next_cursor": page.next_cursor})
    body = dumps(reply.model_dump(by_alias=True))
    if generation is not None:
        seconds = discoverycache.page_seconds()
        if any(item["cover"] is not None and item["cover"].url_expires_at for item in items):
            # A private cover's link is signed for a while: hand it out well before it lapses.
            seconds = min(seconds, settings.FILES_PRIVATE_URL_TTL_SECONDS // 2)
        discoverycache.page_keep(key=key, generation=generation, body=body, seconds=seconds)
    return body


# --- One event ------------------------------------------------------------------------------


def event_get_for_viewer(*, user: User, event_id: Any) -> Event:
    event = events_with_relations(Event.objects.filter(pk=event_id)).first()
    if event is None or not can_see(event, user):
        raise EventNotFoundError
    return event


def price_out(minor: int, currency: str) -> dict[str, str] | None:
    if minor == 0:
        return None
    return {"amount": amount_format(minor, currency), "currency": currency}


def my_part(*, event: Event, user: User) -> dict[str, Any]:
    """What the viewer has to do with the event: host, request, invite, ticket, attendance."""
    user_id: Any = getattr(user, "pk", None)
    request = (
        JoinRequest.objects.filter(event=event, user_id=user_id).order_by("-created_at").first()
    )
    ticket = Ticket.objects.filter(event=event, holder_id=user_id).order_by("-created_at").first()
    attendance = Attendance.objects.filter(event=event, user_id=user_id).first()
    invite = Invite.objects.filter(event=event, invitee_id=user_id).order_by("-created_at").first()
    return {
        "is_host": event.host_id == user_id,
        "is_helper": EventHelper.objects.filter(event=event, user_id=user_id).exists(),
        "request_id": request.pk if request else None,
        "request_status": str(request.status) if request else None,
        "waitlisted": bool(request and request.waitlisted_at),
        "invite_id": invite.pk if invite else None,
        "invite_status": str(invite.status) if invite else None,
        "ticket_id": ticket.pk if ticket else None,
        "ticket_status": str(ticket.status) if ticket else None,
        "attendance": str(attendance.status) if attendance else None,
    }


def event_people_ids(*, event_id: Any, after: Any = None, limit: int | None = None) -> list[str]:
    """Everyone an event's reminder is for: the people holding a valid ticket, by user id;
    with `after` and `limit`, the next chunk of them (the partial unique index on live
    tickets' (event, holder) serves it on PostgreSQL)."""
    tickets = Ticket.objects.filter(event_id=event_id, status=sm.VALID)
    if after is not None:
        tickets = tickets.filter(holder_id__gt=after)
    ids = tickets.order_by("holder_id").values_list("holder_id", flat=True)
    return [str(i) for i in (ids[:limit] if limit is not None else ids)]


# --- Lists ----------------------------------------------------------------------------------


def events_hosted(*, host: Any, status: str | None = None) -> QuerySet[Event]:
    queryset = Event.objects.filter(host=host)
    if status:
        queryset = queryset.filter(status=status)
    return events_with_relations(queryset.order_by("-starts_at", "-id"))


def _hosted(*, host: Any, event_id: Any) -> Event:
    event = Event.objects.filter(pk=event_id, host=host).first()
    if event is None:
        raise EventNotFoundError
    return event


def event_requests_for_host(
    *, host: Any, event_id: Any, status: str | None = None, waitlisted: bool | None = None
) -> QuerySet[JoinRequest]:
    event = _hosted(host=host, event_id=event_id)
    queryset = JoinRequest.objects.filter(event=event).select_related("user")
    if status:
        queryset = queryset.filter(status=status)
    if waitlisted is not None:
        queryset = queryset.filter(waitlisted_at__isnull=not waitlisted)
    return queryset.order_by("created_at", "id")


def event_waitlist(*, host: Any, event_id: Any) -> QuerySet[JoinRequest]:
    event = _hosted(host=host, event_id=event_id)
    return (
        JoinRequest.objects.filter(event=event, status=sm.PENDING, waitlisted_at__isnull=False)
        .select_related("user")
        .order_by("waitlisted_at", "id")
    )


def event_attendees_for_host(
    *, host: Any, event_id: Any, status: str | None = None
) -> QuerySet[Attendance]:
    event = _hosted(host=host, event_id=event_id)
    queryset = Attendance.objects.filter(event=event).select_related("user")
    if status:
        queryset = queryset.filter(status=status)
    return queryset.order_by("created_at", "id")


def event_invites_for_host(*, host: Any, event_id: Any) -> QuerySet[Invite]:
    event = _hosted(host=host, event_id=event_id)
    return Invite.objects.filter(event=event).select_related("invitee").order_by("-created_at")


def event_helpers_for_host(*, host: Any, event_id: Any) -> QuerySet[EventHelper]:
    event = _hosted(host=host, event_id=event_id)
    return EventHelper.objects.filter(event=event).select_related("user").order_by("created_at")


def request_get(*, user: User, request_id: Any) -> JoinRequest:
    """A join request as its sender or the event's host sees it."""
    found = (
        JoinRequest.objects.select_related("event", "user")
        .filter(Q(user=user) | Q(event__host=user), pk=request_id)
        .first()
    )
    if found is None:
        raise NotFoundError(_("The request was not found."))
    return found


def invite_get(*, user: User, invite_id: Any) -> Invite:
    """An invitation as the invited person, the inviter or the event's host sees it."""
    found = (
        Invite.objects.select_related("event", "inviter", "invitee")
        .filter(Q(invitee=user) | Q(inviter=user) | Q(event__host=user), pk=invite_id)
        .first()
    )
    if found is None:
        raise NotFoundError(_("The invitation was not found."))
    return found


def event_helper_get(*, host: Any, event_id: Any, user_id: Any) -> EventHelper:
    event = _hosted(host=host, event_id=event_id)
    found = EventHelper.objects.select_related("user").filter(event=event, user_id=user_id).first()
    if found is None:
        raise NotFoundError(_("The helper was not found."))
    return found


def requests_mine(*, user: User, status: str | None = None) -> QuerySet[JoinRequest]:
    queryset = JoinRequest.objects.filter(user=user).select_related("event", "user")
    if status:
        queryset = queryset.filter(status=status)
    return queryset.order_by("-created_at", "-id")


def invites_mine(*, user: User, status: str | None = None) -> QuerySet[Invite]:
    queryset = Invite.objects.filter(invitee=user).select_related("event", "inviter", "invitee")
    if status:
        queryset = queryset.filter(status=status)
    return queryset.order_by("-created_at", "-id")


def hosts_published_events(*, user_id: Any) -> bool:
    """Whether discovery can show this person as a host (`event_host_idx` answers it)."""
    return Event.objects.filter(host_id=user_id, status=sm.PUBLISHED).exists()


def invites_pending_for_address(*, email: str, phone: str) -> bool:
    match = Q(pk__in=[])
    if email:
        match |= Q(invitee_email__iexact=email)
    if phone:
        match |= Q(invitee_phone=phone)
    return Invite.objects.filter(match, invitee__isnull=True, status=sm.PENDING).exists()


def tickets_mine(*, user: User, status: str | None = None) -> QuerySet[Ticket]:
    queryset = Ticket.objects.filter(holder=user).select_related("event", "holder")
    if status:
        queryset = queryset.filter(status=status)
    return queryset.order_by("-created_at", "-id")


def checkins_for_door(*, user: User, event_id: Any, result: str | None = None) -> QuerySet[CheckIn]:
    event = door_event(user=user, event_id=event_id)
    queryset = CheckIn.objects.filter(event=event).select_related("ticket", "ticket__holder")
    if result:
        queryset = queryset.filter(result=result)
    return queryset.order_by("-scanned_at", "-created_at")


# --- Tickets and keys -----------------------------------------------------------------------


def ticket_get_for_holder(*, user: User, ticket_id: Any) -> Ticket:
    ticket = (
        Ticket.objects.select_related("event", "holder").filter(pk=ticket_id, holder=user).first()
    )
    if ticket is None:
        raise NotFoundError(_("The ticket was not found."))
    return ticket


def ticket_secret(ticket: Ticket) -> str:
    """The QR code's content: computed from the ticket (deterministic), never stored."""
    key = OrganiserKey.objects.filter(key_id=ticket.key_id).only("private_key_encrypted").get()
    return codes.secret_sign(
        event_id=ticket.event_id,
        ticket_id=ticket.pk,
        holder_id=ticket.holder_id,
        issued_at=ticket.issued_at,
        ends_at=ticket.event.ends_at,
        key_id=ticket.key_id,
        private_key_encrypted=key.private_key_encrypted,
    )


def ticket_view(ticket: Ticket) -> dict[str, Any]:
    """A ticket as its holder sees it; the secret only once it is valid."""
    valid = ticket.status == sm.VALID
    base = f"/api/events/tickets/{ticket.pk}"
    return {
        "id": ticket.pk,
        "event_id": ticket.event_id,
        "event_title": ticket.event.title,
        "starts_at": ticket.event.starts_at,
        "status": str(ticket.status),
        "code": ticket.display_code if valid else None,
        "secret": ticket_secret(ticket) if valid else None,
        "key_id": ticket.key_id,
        "qr_png_url": f"{base}/qr.png" if valid else None,
        "qr_svg_url": f"{base}/qr.svg" if valid else None,
        "price": price_out(ticket.price_minor, ticket.currency),
        "hold_expires_at": ticket.hold_expires_at,
        "checkout_url": ticket.checkout_url or None,
        "inside": ticket.inside,
        "refunded": price_out(ticket.refunded_minor, ticket.currency),
        "created_at": ticket.created_at,
    }


def ticket_keys(*, user: User, event_id: Any) -> dict[str, Any]:
    """The public keys that verify the event's tickets, as a JWKS."""
    event = event_get_for_viewer(user=user, event_id=event_id)
    rows = OrganiserKey.objects.filter(organiser__user_id=event.host_id).order_by(
        "-active", "-created_at"
    )
    return {
        "keys": [keys.jwk(key_id=k.key_id, public_b64=k.public_key, active=k.active) for k in rows]
    }


# --- Reply shapes ---------------------------------------------------------------------------


def _person(user: User | _Person) -> dict[str, Any]:
    return {"id": user.pk, "name": user.name}


def _interests_of(event: Event | DiscoveryRow) -> list[Any]:
    if isinstance(event, DiscoveryRow):
        return event.interest_list
    prefetched = getattr(event, "interest_list", None)  # events_with_relations
    return prefetched if prefetched is not None else list(event.interests.all())


def _distance_of(event: Event | DiscoveryRow) -> float | None:
    distance = getattr(event, "distance_km", None)
    return round(distance, 3) if distance is not None else None


def event_view(
    event: Event | DiscoveryRow,
    *,
    viewer: Any,
    client: ClientContext | None = None,
    with_me: bool = False,
) -> dict[str, Any]:
    from tessera.files.selectors import file_ref

    venue = event.venue
    view: dict[str, Any] = {
        "id": event.pk,
        "title": event.title,
        "description": event.description,
        "status": str(event.status),
        "visibility": event.visibility,
        "requires_approval": event.requires_approval,
        "starts_at": event.starts_at,
        "ends_at": event.ends_at,
        "timezone": event.timezone,
        "capacity": event.capacity,
        "places_left": event.places_left,
        "is_free": event.is_free,
        "price": price_out(event.price_minor, event.currency),
        "venue": venue,
        "online_url": event.online_url,
        "host": _person(event.host),
        # Whoever may see the event may see its cover.
        "cover": file_ref(event.cover, viewer=viewer, client=client, grant_private=True),
        "interests": _interests_of(event),
        "distance_km": _distance_of(event),
        "created_at": event.created_at,
    }
    if with_me:
        view["me"] = my_part(event=cast(Event, event), user=viewer)
    return view


def request_view(join_request: JoinRequest) -> dict[str, Any]:
    return {
        "id": join_request.pk,
        "event_id": join_request.event_id,
        "user": _person(join_request.user),
        "status": str(join_request.status),
        "message": join_request.message,
        "waitlisted": join_request.waitlisted_at is not None,
        "waitlisted_at": join_request.waitlisted_at,
        "created_at": join_request.created_at,
        "decided_at": join_request.decided_at,
    }


def invite_view(invite: Invite) -> dict[str, Any]:
    return {
        "id": invite.pk,
        "event_id": invite.event_id,
        "event_title": invite.event.title,
        "invitee": _person(invite.invitee) if invite.invitee else None,
        "invitee_email": invite.invitee_email,
        "invitee_phone": invite.invitee_phone,
        "status": str(invite.status),
        "expires_at": invite.expires_at,
        "created_at": invite.created_at,
    }


def attendance_view(attendance: Attendance) -> dict[str, Any]:
    return {
        "event_id": attendance.event_id,
        "user": _person(attendance.user),
        "status": str(attendance.status),
        "checked_in_at": attendance.checked_in_at,
        "checked_out_at": attendance.checked_out_at,
    }


def scan_view(checkin: CheckIn, *, replayed: bool) -> dict[str, Any]:
    ticket = checkin.ticket
    return {
        "id": checkin.pk if checkin.result != "nonce_reused" else None,
        "nonce": checkin.nonce,
        "result": str(checkin.result),
        "direction": checkin.direction,
        "scanned_at": checkin.scanned_at,
        "offline": checkin.offline,
        "replayed": replayed,
        "conflict": checkin.result != "ok",
        "ticket": {
            "id": ticket.pk,
            "code": ticket.display_code,
            "holder_name": ticket.holder.name,
            "status": str(ticket.status),
            "inside": ticket.inside,
        }
        if ticket is not None
        else None,
    }


class Mapped:
    """A queryset whose page is shaped on slicing: the paginator counts it in SQL and only
    the page's rows are turned into replies."""

    def __init__(self, queryset: QuerySet[Any], shape: Any) -> None:
        self.queryset = queryset
        self.shape = shape

    def all(self) -> Mapped:
        return self

    def count(self) -> int:
        return int(self.queryset.count())

    def __getitem__(self, index: slice) -> list[Any]:
        return [self.shape(row) for row in self.queryset[index]]


def venues_mine(*, owner: Any) -> QuerySet[Any]:
    from tessera.events.models import Venue

    return Venue.objects.filter(owner=owner).order_by("name", "created_at")


def venue_get(*, owner: Any, venue_id: Any) -> Any:
    from tessera.events.models import Venue

    venue = Venue.objects.filter(pk=venue_id, owner=owner).first()
    if venue is None:
        raise NotFoundError(_("The venue was not found."))
    return venue


def helper_view(helper: EventHelper) -> dict[str, Any]:
    return {"user": _person(helper.user), "created_at": helper.created_at}
