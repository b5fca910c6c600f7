"""Request and reply shapes of the events API."""

from __future__ import annotations

from datetime import datetime
from typing import Any, Literal
from uuid import UUID

from pydantic import Field

from tessera.core.api import CamelSchema, InputSchema, Instant
from tessera.core.api.schemas import ReplySchema
from tessera.files.schemas import FileRefOut

Text200 = Field(min_length=1, max_length=200)


# --- Venues ---------------------------------------------------------------------------------


class VenueIn(InputSchema):
    name: str = Field(min_length=1, max_length=200)
    address: str = Field("", max_length=300)
    latitude: float = Field(ge=-90, le=90)
    longitude: float = Field(ge=-180, le=180)
    capacity: int | None = Field(None, ge=1, le=1_000_000)


class VenuePatch(InputSchema):
    name: str | None = Field(None, min_length=1, max_length=200)
    address: str | None = Field(None, max_length=300)
    latitude: float | None = Field(None, ge=-90, le=90)
    longitude: float | None = Field(None, ge=-180, le=180)
    capacity: int | None = Field(None, ge=1, le=1_000_000)


class VenueOut(ReplySchema):
    id: UUID
    name: str
    address: str
    latitude: float
    longitude: float
    capacity: int | None


# --- Events ---------------------------------------------------------------------------------


class EventIn(InputSchema):
    title: str = Text200
    description: str = Field("", max_length=5000)
    starts_at: Instant
    ends_at: Instant
    timezone: str = Field("UTC", max_length=64)
    capacity: int = Field(ge=1, le=1_000_000)
    venue_id: UUID | None = None
    online_url: str = Field("", max_length=500)
    price: str | None = Field(
        None, max_length=24, description='A decimal string, "150.00"; omit for a free event.'
    )
    currency: str | None = Field(None, max_length=3)
    visibility: Literal["public", "private"] = "public"
    requires_approval: bool = True
    interest_ids: list[UUID] = Field(default_factory=list, max_length=5)
    cover_id: UUID | None = None


class EventPatch(InputSchema):
    title: str | None = Field(None, min_length=1, max_length=200)
    description: str | None = Field(None, max_length=5000)
    starts_at: Instant | None = None
    ends_at: Instant | None = None
    timezone: str | None = Field(None, max_length=64)
    capacity: int | None = Field(None, ge=0, le=1_000_000)
    venue_id: UUID | None = None
    online_url: str | None = Field(None, max_length=500)
    price: str | None = Field(None, max_length=24)
    currency: str | None = Field(None, max_length=3)
    visibility: Literal["public", "private"] | None = None
    requires_approval: bool | None = None
    interest_ids: list[UUID] | None = Field(None, max_length=5)
    cover_id: UUID | None = None


class MoneyOut(ReplySchema):
    amount: str
    currency: str


class PersonOut(ReplySchema):
    id: UUID
    name: str


class InterestOut(ReplySchema):
    id: UUID
    slug: str
    name: str
    name_ar: str


class EventOut(ReplySchema):
    id: UUID
    title: str
    description: str
    status: str
    visibility: str
    requires_approval: bool
    starts_at: datetime
    ends_at: datetime
    timezone: str
    capacity: int
    places_left: int
    is_free: bool
    price: MoneyOut | None
    venue: VenueOut | None
    online_url: str
    host: PersonOut
    cover: FileRefOut | None
    interests: list[InterestOut]
    distance_km: float | None = None
    created_at: datetime


class MyPartOut(ReplySchema):
    is_host: bool
    is_helper: bool
    request_id: UUID | None
    request_status: str | None
    waitlisted: bool
    invite_id: UUID | None
    invite_status: str | None
    ticket_id: UUID | None
    ticket_status: str | None
    attendance: str | None


class EventDetailOut(EventOut):
    me: MyPartOut


class EventPageOut(ReplySchema):
    items: list[EventOut]
    next_cursor: str | None


class DiscoveryFilter(CamelSchema):
    q: str | None = Field(None, max_length=200, description="Words of the title or description.")
    interests: list[UUID] = Field(default_factory=list, max_length=10)
    from_: Instant | None = Field(
        None, alias="from", description="Starting at or after (default: now)."
    )
    to: Instant | None = Field(None, description="Starting before.")
    lat: float | None = None
    lng: float | None = None
    radius_km: float | None = None
    price_min: str | None = Field(None, max_length=24)
    price_max: str | None = Field(None, max_length=24)
    currency: str | None = Field(None, max_length=3)
    free: bool = False
    cursor: str | None = Field(None, max_length=200)
    page_size: int | None = Field(None, ge=1)


class HostedFilter(CamelSchema):
    status: Literal["draft", "published", "cancelled", "completed", "postponed"] | None = None


# --- Requests, invites, attendance ----------------------------------------------------------


class RequestIn(InputSchema):
    message: str = Field("", max_length=500)


class RequestOut(ReplySchema):
    id: UUID
    event_id: UUID
    user: PersonOut
    status: str
    message: str
    waitlisted: bool
    waitlisted_at: datetime | None
    created_at: datetime
    decided_at: datetime | None


class RequestFilter(CamelSchema):
    status: Literal["pending", "accepted", "declined", "cancelled", "expired"] | None = None
    waitlisted: bool | None = None


class DecideIn(InputSchema):
    accept: list[UUID] = Field(default_factory=list, max_length=500)
    decline: list[UUID] = Field(default_factory=list, max_length=500)


class DecisionOut(ReplySchema):
    request_id: str
    result: str = Field(
        description="accepted, waitlisted, declined, or the error code that refused it"
    )
    message: str


class DecisionsOut(ReplySchema):
    results: list[DecisionOut]


class InviteIn(InputSchema):
    user_id: UUID | None = None
    email: str | None = Field(None, max_length=254)
    phone: str | None = Field(None, max_length=20)


class InviteOut(ReplySchema):
    id: UUID
    event_id: UUID
    event_title: str
    invitee: PersonOut | None
    invitee_email: str
    invitee_phone: str
    status: str
    expires_at: datetime
    created_at: datetime


class StatusFilter(CamelSchema):
    status: str | None = Field(None, max_length=20)


class RsvpIn(InputSchema):
    status: Literal["maybe", "not_going"]


class AttendanceOut(ReplySchema):
    event_id: UUID
    user: PersonOut
    status: str
    checked_in_at: datetime | None
    checked_out_at: datetime | None


class HelperIn(InputSchema):
    user_id: UUID | None = None
    email: str | None = Field(None, max_length=254)


class HelperOut(ReplySchema):
    user: PersonOut
    created_at: datetime


# --- Tickets and the door -------------------------------------------------------------------


class TicketOut(ReplySchema):
    id: UUID
    event_id: UUID
    event_title: str
    starts_at: datetime
    status: str
    code: str | None = Field(description="Typed at the door when the QR code will not scan.")
    secret: str | None = Field(
        description="The QR code's content: a JWS (EdDSA) verifiable offline."
    )
    key_id: str
    qr_png_url: str | None
    qr_svg_url: str | None
    price: MoneyOut | None
    hold_expires_at: datetime | None
    checkout_url: str | None
    inside: bool
    refunded: MoneyOut | None
    created_at: datetime


class CheckoutIn(InputSchema):
    success_url: str | None = Field(None, max_length=500)
    failure_url: str | None = Field(None, max_length=500)


class ScanIn(InputSchema):
    ticket: str | None = Field(None, max_length=2000, description="The QR code's content.")
    code: str | None = Field(None, max_length=20, description="The typed code (dashes ignored).")
    nonce: str = Field(min_length=8, max_length=64, pattern=r"^[\x21-\x7e]+$")
    scanned_at: Instant
    direction: Literal["entry", "exit"] = "entry"


class BatchIn(InputSchema):
    scans: list[ScanIn] = Field(min_length=1, max_length=1000)


class ScanTicketOut(ReplySchema):
    id: UUID
    code: str
    holder_name: str
    status: str
    inside: bool


class ScanOut(ReplySchema):
    id: UUID | None
    nonce: str
    result: str
    direction: str
    scanned_at: datetime
    offline: bool
    replayed: bool
    conflict: bool
    ticket: ScanTicketOut | None


class BatchOut(ReplySchema):
    applied: int
    conflicts: int
    results: list[ScanOut]


class CheckInFilter(CamelSchema):
    result: str | None = Field(None, max_length=20)


class ExportOut(ReplySchema):
    key_id: str
    jws: str = Field(description="The document signed with the organiser's key (EdDSA).")
    document: dict[str, Any]


class JwkOut(ReplySchema):
    kty: str
    crv: str
    x: str
    kid: str
    use: str
    alg: str
    active: bool


class JwksOut(ReplySchema):
    keys: list[JwkOut]
