"""Venues, events, join requests, invitations, attendance, tickets and door scans.

Every status field is an `FSMField` whose transitions come from `statemachine.py`. The rules
that must hold whatever the code does are constraints: an event's places taken never exceed
its capacity (`event_places_within_capacity`), one live request and one live ticket per person
and event, one attendance row per person and event, a scan nonce is used once per event.
"""

from __future__ import annotations

from typing import Any, ClassVar

from django.conf import settings
from django.contrib.postgres.search import SearchVectorField
from django.db import models
from django.db.models import F, Q
from django.utils.translation import gettext_lazy as _
from django_fsm import FSMField, transition

from tessera.core.models import BaseModel
from tessera.events import statemachine as sm
from tessera.files.fields import StoredFileField
from tessera.files.purposes import Purpose

STATE_LABELS = {
    sm.DRAFT: _("Draft"),
    sm.PUBLISHED: _("Published"),
    sm.CANCELLED: _("Cancelled"),
    sm.COMPLETED: _("Completed"),
    sm.POSTPONED: _("Postponed"),
    sm.PENDING: _("Pending"),
    sm.ACCEPTED: _("Accepted"),
    sm.DECLINED: _("Declined"),
    sm.EXPIRED: _("Expired"),
    sm.GOING: _("Going"),
    sm.NOT_GOING: _("Not going"),
    sm.MAYBE: _("Maybe"),
    sm.CHECKED_IN: _("Checked in"),
    sm.RESERVED: _("Reserved"),
    sm.VALID: _("Valid"),
    sm.REVOKED: _("Revoked"),
}


def _choices(*states: str) -> list[tuple[str, Any]]:
    return [(state, STATE_LABELS[state]) for state in states]


LAT_RANGE = Q(latitude__gte=-90, latitude__lte=90)
LNG_RANGE = Q(longitude__gte=-180, longitude__lte=180)


def is_free_price(price_minor: int) -> bool:
    return price_minor == 0


def places_left_of(*, capacity: int, places_taken: int) -> int:
    return max(0, capacity - places_taken)


class Visibility(models.TextChoices):
    PUBLIC = "public", _("Public")
    PRIVATE = "private", _("Private")


class Venue(BaseModel):
    owner = models.ForeignKey(
        settings.AUTH_USER_MODEL,
        on_delete=models.CASCADE,
        related_name="event_venues",
        verbose_name=_("owner"),
    )
    name = models.CharField(max_length=200, verbose_name=_("name"))
    address = models.CharField(max_length=300, blank=True, default="", verbose_name=_("address"))
    latitude = models.FloatField(verbose_name=_("latitude"))
    longitude = models.FloatField(verbose_name=_("longitude"))
    capacity = models.PositiveIntegerField(null=True, blank=True, verbose_name=_("capacity"))

    class Meta:
        verbose_name = _("venue")
        verbose_name_plural = _("venues")
        ordering = ("name", "created_at")
        constraints: ClassVar[list[Any]] = [
            models.CheckConstraint(condition=LAT_RANGE, name="venue_latitude_range"),
            models.CheckConstraint(condition=LNG_RANGE, name="venue_longitude_range"),
            models.CheckConstraint(
                condition=Q(capacity__isnull=True) | Q(capacity__gte=1),
                name="venue_capacity_positive",
            ),
        ]

    def __str__(self) -> str:
        return self.name


class Organiser(BaseModel):
    """Who hosts events and signs their tickets. Tessera has no organisation model yet: each
    host is their own organiser, holding the Ed25519 keys their tickets are signed with."""

    user = models.OneToOneField(
        settings.AUTH_USER_MODEL,
        on_delete=models.CASCADE,
        related_name="event_organiser",
        verbose_name=_("user"),
    )

    class Meta:
        verbose_name = _("organiser")
        verbose_name_plural = _("organisers")

    def __str__(self) -> str:
        return f"organiser {self.user_id}"


class OrganiserKey(BaseModel):
    """One Ed25519 key pair. The private key is stored encrypted (`keys.py`); retired keys
    still verify the tickets they signed, only the active one signs."""

    organiser = models.ForeignKey(
        Organiser, on_delete=models.CASCADE, related_name="keys", verbose_name=_("organiser")
    )
    key_id = models.CharField(max_length=16, unique=True, verbose_name=_("key ID"))
    public_key = models.CharField(
        max_length=64, help_text=_("Raw public key, base64url."), verbose_name=_("public key")
    )
    private_key_encrypted = models.TextField(verbose_name=_("private key encrypted"))
    active = models.BooleanField(default=True, verbose_name=_("active"))
    retired_at = models.DateTimeField(null=True, blank=True, verbose_name=_("retired at"))

    class Meta:
        verbose_name = _("organiser key")
        verbose_name_plural = _("organiser keys")
        ordering = ("-created_at",)
        constraints: ClassVar[list[Any]] = [
            models.UniqueConstraint(
                fields=["organiser"], condition=Q(active=True), name="organiser_one_active_key"
            ),
        ]

    def __str__(self) -> str:
        return self.key_id


class Event(BaseModel):
    host = models.ForeignKey(
        settings.AUTH_USER_MODEL,
        on_delete=models.CASCADE,
        related_name="events_hosted",
        db_index=False,
        verbose_name=_("host"),  # `event_host_idx` leads with it
    )
    title = models.CharField(max_length=200, verbose_name=_("title"))
    description = models.TextField(blank=True, default="", verbose_name=_("description"))
    cover = StoredFileField(purpose=Purpose.EVENT_COVER, verbose_name=_("cover"))
    venue = models.ForeignKey(
        Venue,
        on_delete=models.SET_NULL,
        null=True,
        blank=True,
        related_name="events",
        verbose_name=_("venue"),
    )
    online_url = models.URLField(
        max_length=500, blank=True, default="", verbose_name=_("online URL")
    )
    # The venue's position, copied so that discovery filters one table by its own index.
    latitude = models.FloatField(null=True, blank=True, verbose_name=_("latitude"))
    longitude = models.FloatField(null=True, blank=True, verbose_name=_("longitude"))
    starts_at = models.DateTimeField(verbose_name=_("starts at"))
    ends_at = models.DateTimeField(verbose_name=_("ends at"))
    timezone = models.CharField(max_length=64, default="UTC", verbose_name=_("timezone"))
    capacity = models.PositiveIntegerField(verbose_name=_("capacity"))
    # Places held by tickets (reserved for payment or valid). Changed only under the event's
    # row lock; the check constraint refuses any write that would exceed the capacity.
    places_taken = models.PositiveIntegerField(default=0, verbose_name=_("places taken"))
    price_minor = models.BigIntegerField(default=0, verbose_name=_("price (minor units)"))
    currency = models.CharField(max_length=3, blank=True, default="", verbose_name=_("currency"))
    visibility = models.CharField(
        max_length=10,
        choices=Visibility.choices,
        default=Visibility.PUBLIC,
        verbose_name=_("visibility"),
    )
    requires_approval = models.BooleanField(default=True, verbose_name=_("requires approval"))
    interests = models.ManyToManyField(
        "accounts.EventInterest", blank=True, related_name="+", verbose_name=_("interests")
    )
    status = FSMField(
        default=sm.DRAFT,
        choices=_choices(*sm.EVENT.states),
        max_length=12,
        verbose_name=_("status"),
    )
    published_at = models.DateTimeField(null=True, blank=True, verbose_name=_("published at"))
    cancelled_at = models.DateTimeField(null=True, blank=True, verbose_name=_("cancelled at"))
    reminded_at = models.DateTimeField(null=True, blank=True, verbose_name=_("reminded at"))
    # PostgreSQL only: `to_tsvector('simple', title || ' ' || description)`, kept by a trigger
    # (migration 0004), GIN-indexed for discovery. Unused (null) on SQLite.
    search_document = SearchVectorField(
        null=True, blank=True, editable=False, verbose_name=_("search document")
    )

    class Meta:
        verbose_name = _("event")
        verbose_name_plural = _("events")
        ordering = ("starts_at", "id")
        indexes: ClassVar[list[Any]] = [
            models.Index(fields=["host", "-starts_at", "-id"], name="event_host_idx"),
            # Discovery reads only public, published events: every index it uses is partial
            # on that. The text (GIN full text and trigram) indexes are PostgreSQL-only and
            # created in the migration (0002).
            models.Index(
                fields=["starts_at", "id"],
                name="event_discover_start_idx",
                condition=Q(status=sm.PUBLISHED, visibility="public"),
            ),
            models.Index(
                fields=["latitude", "longitude", "starts_at"],
                name="event_discover_geo_idx",
                condition=Q(status=sm.PUBLISHED, visibility="public"),
            ),
            # The sweep: published events whose end has passed, reminders due.
            models.Index(
                fields=["ends_at"], name="event_complete_due_idx", condition=Q(status=sm.PUBLISHED)
            ),
            models.Index(
                fields=["starts_at"],
                name="event_reminder_due_idx",
                condition=Q(status=sm.PUBLISHED, reminded_at__isnull=True),
            ),
        ]
        constraints: ClassVar[list[Any]] = [
            models.CheckConstraint(
                condition=Q(ends_at__gt=F("starts_at")), name="event_ends_after_start"
            ),
            models.CheckConstraint(condition=Q(capacity__gte=1), name="event_capacity_positive"),
            models.CheckConstraint(
                condition=Q(places_taken__lte=F("capacity")), name="event_places_within_capacity"
            ),
            models.CheckConstraint(
                condition=Q(price_minor__gte=0), name="event_price_not_negative"
            ),
            models.CheckConstraint(
                condition=Q(price_minor=0) | ~Q(currency=""), name="event_paid_has_currency"
            ),
            models.CheckConstraint(
                condition=(Q(latitude__isnull=True) | LAT_RANGE)
                & (Q(longitude__isnull=True) | LNG_RANGE),
                name="event_coordinates_range",
            ),
            models.CheckConstraint(
                condition=Q(visibility__in=Visibility.values), name="event_visibility_valid"
            ),
            models.CheckConstraint(
                condition=Q(status__in=sm.EVENT.states), name="event_status_valid"
            ),
        ]

    def __str__(self) -> str:
        return self.title

    @property
    def is_free(self) -> bool:
        return is_free_price(self.price_minor)

    @property
    def places_left(self) -> int:
        return places_left_of(capacity=self.capacity, places_taken=self.places_taken)

    @transition(field=status, **sm.EVENT.fsm("publish"))
    def publish(self, *, now: Any) -> None:
        self.published_at = self.published_at or now

    @transition(field=status, **sm.EVENT.fsm("postpone"))
    def postpone(self) -> None:
        # The reminder goes out again for the new date.
        self.reminded_at = None

    @transition(field=status, **sm.EVENT.fsm("cancel"))
    def cancel(self, *, now: Any) -> None:
        self.cancelled_at = now

    @transition(field=status, **sm.EVENT.fsm("complete"))
    def complete(self) -> None:
        """Made by the sweep, as SQL built from the same table (`services.sweep`)."""


class EventReminder(BaseModel):
    """The reminder of one event for one start, sent in chunks of people by user id
    (`services.event_remind_now`): each chunk's transaction locks this row, writes the
    chunk's notifications and moves `told_through` to the last person told, so each person
    is reminded once per date however often the task runs or wherever it was killed;
    `notified_at` is set with the last chunk. A new start (a date change, a postponement) is
    a new row."""

    event = models.ForeignKey(
        Event,
        on_delete=models.CASCADE,
        related_name="reminders",
        db_index=False,
        verbose_name=_("event"),
    )
    starts_at = models.DateTimeField(verbose_name=_("starts at"))
    notified_at = models.DateTimeField(null=True, blank=True, verbose_name=_("notified at"))
    # The user id of the last person told (people are told in user id order); empty before
    # the first chunk.
    told_through = models.UUIDField(null=True, blank=True, verbose_name=_("told through"))

    class Meta:
        verbose_name = _("event reminder")
        verbose_name_plural = _("event reminders")
        constraints: ClassVar[list[Any]] = [
            models.UniqueConstraint(fields=["event", "starts_at"], name="event_reminder_once"),
        ]
        indexes: ClassVar[list[Any]] = [
            # The sweep's look for reminders whose task was lost.
            models.Index(
                fields=["updated_at"],
                name="event_reminder_pending_idx",
                condition=Q(notified_at__isnull=True),
            ),
        ]

    def __str__(self) -> str:
        return f"{self.event_id} {self.starts_at:%Y-%m-%d %H:%M}"


class EventHelper(BaseModel):
    """Someone the host named to scan tickets at the door."""

    event = models.ForeignKey(
        Event, on_delete=models.CASCADE, related_name="helpers", verbose_name=_("event")
    )
    user = models.ForeignKey(
        settings.AUTH_USER_MODEL,
        on_delete=models.CASCADE,
        related_name="event_helping",
        verbose_name=_("user"),
    )

    class Meta:
        verbose_name = _("door helper")
        verbose_name_plural = _("door helpers")
        constraints: ClassVar[list[Any]] = [
            models.UniqueConstraint(fields=["event", "user"], name="event_helper_once"),
        ]

    def __str__(self) -> str:
        return f"helper {self.user_id} at {self.event_id}"


class Invite(BaseModel):
    event = models.ForeignKey(
        Event, on_delete=models.CASCADE, related_name="invites", verbose_name=_("event")
    )
    inviter = models.ForeignKey(
        settings.AUTH_USER_MODEL,
        on_delete=models.CASCADE,
        related_name="event_invites_sent",
        verbose_name=_("inviter"),
    )
    # Null until the person has an account: `invitee_email`/`invitee_phone` say who, and the
    # invitation is claimed when they verify that address.
    invitee = models.ForeignKey(
        settings.AUTH_USER_MODEL,
        on_delete=models.CASCADE,
        null=True,
        blank=True,
        related_name="event_invites",
        verbose_name=_("invitee"),
    )
    invitee_email = models.EmailField(blank=True, default="", verbose_name=_("invitee email"))
    invitee_phone = models.CharField(
        max_length=20, blank=True, default="", verbose_name=_("invitee phone")
    )
    status = FSMField(
        default=sm.PENDING,
        choices=_choices(*sm.INVITE.states),
        max_length=12,
        verbose_name=_("status"),
    )
    expires_at = models.DateTimeField(verbose_name=_("expires at"))
    responded_at = models.DateTimeField(null=True, blank=True, verbose_name=_("responded at"))

    class Meta:
        verbose_name = _("invitation")
        verbose_name_plural = _("invitations")
        ordering = ("-created_at",)
        indexes: ClassVar[list[Any]] = [
            models.Index(fields=["invitee", "-created_at"], name="invite_invitee_idx"),
            models.Index(
                fields=["invitee_email"],
                name="invite_pending_email_idx",
                condition=Q(invitee__isnull=True, status=sm.PENDING),
            ),
            models.Index(
                fields=["invitee_phone"],
                name="invite_pending_phone_idx",
                condition=Q(invitee__isnull=True, status=sm.PENDING),
            ),
            models.Index(
                fields=["expires_at"], name="invite_expiry_idx", condition=Q(status=sm.PENDING)
            ),
        ]
        constraints: ClassVar[list[Any]] = [
            models.CheckConstraint(
                condition=~Q(invitee__isnull=True, invitee_email="", invitee_phone=""),
                name="invite_has_invitee",
            ),
            models.UniqueConstraint(
                fields=["event", "invitee"],
                condition=Q(status=sm.PENDING, invitee__isnull=False),
                name="invite_pending_once_per_user",
            ),
            models.UniqueConstraint(
                fields=["event", "invitee_email"],
                condition=Q(status=sm.PENDING, invitee__isnull=True) & ~Q(invitee_email=""),
                name="invite_pending_once_per_email",
            ),
            models.UniqueConstraint(
                fields=["event", "invitee_phone"],
                condition=Q(status=sm.PENDING, invitee__isnull=True) & ~Q(invitee_phone=""),
                name="invite_pending_once_per_phone",
            ),
            models.CheckConstraint(
                condition=Q(status__in=sm.INVITE.states), name="invite_status_valid"
            ),
        ]

    def __str__(self) -> str:
        return f"invite to {self.event_id}"

    @transition(field=status, **sm.INVITE.fsm("accept"))
    def accept(self, *, now: Any) -> None:
        self.responded_at = now

    @transition(field=status, **sm.INVITE.fsm("decline"))
    def decline(self, *, now: Any) -> None:
        self.responded_at = now

    @transition(field=status, **sm.INVITE.fsm("expire"))
    def expire(self) -> None:
        """Made by the sweep (`services.sweep`)."""


class JoinRequest(BaseModel):
    """A person asking for a place. Accepted means they hold one (a ticket); pending with
    `waitlisted_at` means they were let in but the event was full: they wait, in order."""

    event = models.ForeignKey(
        Event,
        on_delete=models.CASCADE,
        related_name="requests",
        db_index=False,
        verbose_name=_("event"),
    )
    user = models.ForeignKey(
        settings.AUTH_USER_MODEL,
        on_delete=models.CASCADE,
        related_name="event_requests",
        db_index=False,
        verbose_name=_("user"),
    )
    status = FSMField(
        default=sm.PENDING,
        choices=_choices(*sm.REQUEST.states),
        max_length=12,
        verbose_name=_("status"),
    )
    message = models.CharField(max_length=500, blank=True, default="", verbose_name=_("message"))
    invite = models.ForeignKey(
        Invite,
        on_delete=models.SET_NULL,
        null=True,
        blank=True,
        related_name="requests",
        verbose_name=_("invite"),
    )
    waitlisted_at = models.DateTimeField(null=True, blank=True, verbose_name=_("waitlisted at"))
    decided_at = models.DateTimeField(null=True, blank=True, verbose_name=_("decided at"))

    class Meta:
        verbose_name = _("join request")
        verbose_name_plural = _("join requests")
        ordering = ("created_at", "id")
        indexes: ClassVar[list[Any]] = [
            models.Index(fields=["event", "status", "created_at"], name="request_event_idx"),
            models.Index(fields=["user", "-created_at"], name="request_user_idx"),
            models.Index(
                fields=["event", "waitlisted_at", "id"],
                name="request_waitlist_idx",
                condition=Q(status=sm.PENDING, waitlisted_at__isnull=False),
            ),
        ]
        constraints: ClassVar[list[Any]] = [
            models.UniqueConstraint(
                fields=["event", "user"],
                condition=Q(status__in=[sm.PENDING, sm.ACCEPTED]),
                name="request_live_once",
            ),
            models.CheckConstraint(
                condition=Q(waitlisted_at__isnull=True) | Q(status=sm.PENDING),
                name="request_waitlist_only_pending",
            ),
            models.CheckConstraint(
                condition=Q(status__in=sm.REQUEST.states), name="request_status_valid"
            ),
        ]

    def __str__(self) -> str:
        return f"request {self.user_id} → {self.event_id} ({self.status})"

    @transition(field=status, **sm.REQUEST.fsm("accept"))
    def accept(self, *, now: Any) -> None:
        self.waitlisted_at = None
        self.decided_at = now

    @transition(field=status, **sm.REQUEST.fsm("decline"))
    def decline(self, *, now: Any) -> None:
        self.waitlisted_at = None
        self.decided_at = now

    @transition(field=status, **sm.REQUEST.fsm("cancel"))
    def cancel(self, *, now: Any) -> None:
        self.waitlisted_at = None
        self.decided_at = self.decided_at or now

    @transition(field=status, **sm.REQUEST.fsm("expire"))
    def expire(self) -> None:
        self.waitlisted_at = None


class Attendance(BaseModel):
    """One row per person and event: what they said, and whether they came."""

    event = models.ForeignKey(
        Event,
        on_delete=models.CASCADE,
        related_name="attendances",
        db_index=False,
        verbose_name=_("event"),
    )
    user = models.ForeignKey(
        settings.AUTH_USER_MODEL,
        on_delete=models.CASCADE,
        related_name="event_attendances",
        verbose_name=_("user"),
    )
    status = FSMField(
        default=sm.MAYBE,
        choices=_choices(*sm.ATTENDANCE.states),
        max_length=12,
        verbose_name=_("status"),
    )
    checked_in_at = models.DateTimeField(null=True, blank=True, verbose_name=_("checked in at"))
    checked_out_at = models.DateTimeField(null=True, blank=True, verbose_name=_("checked out at"))

    class Meta:
        verbose_name = _("attendance")
        verbose_name_plural = _("attendances")
        ordering = ("created_at", "id")
        constraints: ClassVar[list[Any]] = [
            models.UniqueConstraint(fields=["event", "user"], name="attendance_once"),
            models.CheckConstraint(
                condition=Q(status__in=sm.ATTENDANCE.states), name="attendance_status_valid"
            ),
        ]
        indexes: ClassVar[list[Any]] = [
            models.Index(fields=["event", "status"], name="attendance_event_status_idx"),
        ]

    def __str__(self) -> str:
        return f"{self.user_id} at {self.event_id}: {self.status}"

    @transition(field=status, **sm.ATTENDANCE.fsm("rsvp_maybe"))
    def rsvp_maybe(self) -> None:
        pass

    @transition(field=status, **sm.ATTENDANCE.fsm("rsvp_not_going"))
    def rsvp_not_going(self) -> None:
        pass

    @transition(field=status, **sm.ATTENDANCE.fsm("confirm"))
    def confirm(self) -> None:
        pass

    @transition(field=status, **sm.ATTENDANCE.fsm("check_in"))
    def check_in(self, *, now: Any) -> None:
        self.checked_in_at = self.checked_in_at or now

    @transition(field=status, **sm.ATTENDANCE.fsm("cancel"))
    def cancel(self) -> None:
        pass


class Ticket(BaseModel):
    """A place at an event. Its secret (a JWS signed with the organiser's Ed25519 key,
    `tickets.py`) is derived from these columns, so it is not stored; `code` is the short
    form a person can type at the door."""

    event = models.ForeignKey(
        Event,
        on_delete=models.CASCADE,
        related_name="tickets",
        db_index=False,
        verbose_name=_("event"),
    )
    holder = models.ForeignKey(
        settings.AUTH_USER_MODEL,
        on_delete=models.CASCADE,
        related_name="event_tickets",
        verbose_name=_("holder"),
    )
    request = models.ForeignKey(
        JoinRequest,
        on_delete=models.SET_NULL,
        null=True,
        blank=True,
        related_name="tickets",
        verbose_name=_("request"),
    )
    status = FSMField(
        default=sm.RESERVED,
        choices=_choices(*sm.TICKET.states),
        max_length=12,
        verbose_name=_("status"),
    )
    code = models.CharField(max_length=8, verbose_name=_("code"))
    key_id = models.CharField(max_length=16, verbose_name=_("key ID"))
    issued_at = models.DateTimeField(verbose_name=_("issued at"))
    price_minor = models.BigIntegerField(default=0, verbose_name=_("price (minor units)"))
    currency = models.CharField(max_length=3, blank=True, default="", verbose_name=_("currency"))
    # The payments order (tessera.payments) that pays for it; its id only, never a model.
    order_id = models.UUIDField(null=True, blank=True, verbose_name=_("order ID"))
    checkout_url = models.URLField(
        max_length=1000, blank=True, default="", verbose_name=_("checkout URL")
    )
    payment_attempts = models.PositiveSmallIntegerField(
        default=0, verbose_name=_("payment attempts")
    )
    hold_expires_at = models.DateTimeField(null=True, blank=True, verbose_name=_("hold expires at"))
    confirmed_at = models.DateTimeField(null=True, blank=True, verbose_name=_("confirmed at"))
    inside = models.BooleanField(default=False, verbose_name=_("inside"))
    revoked_at = models.DateTimeField(null=True, blank=True, verbose_name=_("revoked at"))
    revoke_reason = models.CharField(
        max_length=40, blank=True, default="", verbose_name=_("revoke reason")
    )
    refund_requested_at = models.DateTimeField(
        null=True, blank=True, verbose_name=_("refund requested at")
    )
    refunded_minor = models.BigIntegerField(default=0, verbose_name=_("refunded (minor units)"))
    emailed_at = models.DateTimeField(null=True, blank=True, verbose_name=_("emailed at"))

    class Meta:
        verbose_name = _("ticket")
        verbose_name_plural = _("tickets")
        ordering = ("-created_at",)
        indexes: ClassVar[list[Any]] = [
            models.Index(fields=["holder", "-created_at"], name="ticket_holder_idx"),
            models.Index(fields=["event", "status"], name="ticket_event_status_idx"),
            models.Index(
                fields=["hold_expires_at"],
                name="ticket_hold_due_idx",
                condition=Q(status=sm.RESERVED),
            ),
            models.Index(fields=["order_id"], name="ticket_order_idx"),
        ]
        constraints: ClassVar[list[Any]] = [
            models.UniqueConstraint(fields=["event", "code"], name="ticket_code_unique"),
            models.UniqueConstraint(
                fields=["event", "holder"],
                condition=Q(status__in=list(sm.TICKET_HOLDS_PLACE)),
                name="ticket_live_once",
            ),
            models.CheckConstraint(
                condition=~Q(status=sm.RESERVED) | Q(hold_expires_at__isnull=False),
                name="ticket_reserved_has_hold",
            ),
            models.CheckConstraint(
                condition=Q(inside=False) | Q(status=sm.VALID), name="ticket_inside_only_valid"
            ),
            models.CheckConstraint(
                condition=Q(refunded_minor__gte=0) & Q(refunded_minor__lte=F("price_minor")),
                name="ticket_refund_within_price",
            ),
            models.CheckConstraint(
                condition=Q(status__in=sm.TICKET.states), name="ticket_status_valid"
            ),
        ]

    def __str__(self) -> str:
        return f"{self.code} ({self.status})"

    @property
    def display_code(self) -> str:
        return f"{self.code[:4]}-{self.code[4:]}"

    @transition(field=status, **sm.TICKET.fsm("confirm"))
    def confirm(self, *, now: Any) -> None:
        self.hold_expires_at = None
        self.confirmed_at = now

    @transition(field=status, **sm.TICKET.fsm("revoke"))
    def revoke(self, *, now: Any, reason: str) -> None:
        self.hold_expires_at = None
        self.inside = False
        self.revoked_at = now
        self.revoke_reason = reason

    @transition(field=status, **sm.TICKET.fsm("expire"))
    def expire(self) -> None:
        self.hold_expires_at = None


class ScanResult(models.TextChoices):
    OK = "ok", _("OK")
    ALREADY_CHECKED_IN = "already_checked_in", _("Already checked in")
    NOT_CHECKED_IN = "not_checked_in", _("Not checked in (exit without entry)")
    NOT_PAID = "not_paid", _("Not paid")
    WRONG_EVENT = "wrong_event", _("Wrong event")
    REVOKED = "revoked", _("Revoked")
    EXPIRED = "expired", _("Expired")
    UNKNOWN = "unknown", _("Unknown")


class Direction(models.TextChoices):
    ENTRY = "entry", _("Entry")
    EXIT = "exit", _("Exit")


class CheckIn(BaseModel):
    """One scan at the door, whatever its answer: the door's log, and the record that makes
    a retried scan (same nonce) get the same answer."""

    event = models.ForeignKey(
        Event,
        on_delete=models.CASCADE,
        related_name="checkins",
        db_index=False,
        verbose_name=_("event"),
    )
    ticket = models.ForeignKey(
        Ticket,
        on_delete=models.CASCADE,
        null=True,
        blank=True,
        related_name="checkins",
        verbose_name=_("ticket"),
    )
    scanned_by = models.ForeignKey(
        settings.AUTH_USER_MODEL,
        on_delete=models.SET_NULL,
        null=True,
        related_name="+",
        verbose_name=_("scanned by"),
    )
    nonce = models.CharField(max_length=64, verbose_name=_("nonce"))
    # SHA-256 of what was presented (the secret or the typed code): a nonce replayed with
    # something else is refused.
    presented_hash = models.CharField(max_length=64, verbose_name=_("presented hash"))
    direction = models.CharField(
        max_length=5, choices=Direction.choices, verbose_name=_("direction")
    )
    result = models.CharField(max_length=20, choices=ScanResult.choices, verbose_name=_("result"))
    scanned_at = models.DateTimeField(verbose_name=_("scanned at"))
    offline = models.BooleanField(default=False, verbose_name=_("offline"))

    class Meta:
        verbose_name = _("check-in")
        verbose_name_plural = _("check-ins")
        ordering = ("-scanned_at", "-created_at")
        constraints: ClassVar[list[Any]] = [
            models.UniqueConstraint(fields=["event", "nonce"], name="checkin_nonce_once"),
            models.CheckConstraint(
                condition=Q(result__in=ScanResult.values), name="checkin_result_valid"
            ),
            models.CheckConstraint(
                condition=Q(direction__in=Direction.values), name="checkin_direction_valid"
            ),
        ]
        indexes: ClassVar[list[Any]] = [
            models.Index(fields=["event", "-scanned_at"], name="checkin_event_idx"),
        ]

    def __str__(self) -> str:
        return f"{self.direction} {self.result} ({self.nonce})"
