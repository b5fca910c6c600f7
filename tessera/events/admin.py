"""Venues, events, requests, invitations, tickets and door scans in the admin."""

from __future__ import annotations

from typing import Any

from django.contrib import admin

from tessera.events.discoverycache import discovery_changed
from tessera.events.models import (
    Attendance,
    CheckIn,
    Event,
    EventHelper,
    Invite,
    JoinRequest,
    Organiser,
    OrganiserKey,
    Ticket,
    Venue,
)


class RetiresDiscoveryPages(admin.ModelAdmin):
    """An edit in the admin changes what discovery shows as the services' edits do: kept
    discovery pages are retired (docs/decisions/0038)."""

    def save_model(self, request: Any, obj: Any, form: Any, change: Any) -> None:
        super().save_model(request, obj, form, change)
        discovery_changed()

    def save_related(self, request: Any, form: Any, formsets: Any, change: Any) -> None:
        super().save_related(request, form, formsets, change)  # the interests
        discovery_changed()

    def delete_model(self, request: Any, obj: Any) -> None:
        super().delete_model(request, obj)
        discovery_changed()

    def delete_queryset(self, request: Any, queryset: Any) -> None:
        super().delete_queryset(request, queryset)
        discovery_changed()


@admin.register(Venue)
class VenueAdmin(RetiresDiscoveryPages):
    list_display = ("name", "owner", "address", "latitude", "longitude", "capacity")
    search_fields = ("name", "address", "owner__email")
    list_filter = (("capacity", admin.EmptyFieldListFilter), "created_at")
    date_hierarchy = "created_at"
    raw_id_fields = ("owner",)


class HelperInline(admin.TabularInline):
    model = EventHelper
    raw_id_fields = ("user",)
    extra = 0


@admin.register(Event)
class EventAdmin(RetiresDiscoveryPages):
    list_display = (
        "title",
        "host",
        "status",
        "visibility",
        "starts_at",
        "capacity",
        "places_taken",
        "price_minor",
        "currency",
    )
    list_filter = (
        "status",
        "visibility",
        "requires_approval",
        ("starts_at", admin.DateFieldListFilter),
        "currency",
    )
    search_fields = ("title", "description", "host__email", "venue__name")
    date_hierarchy = "starts_at"
    raw_id_fields = ("host", "venue", "cover")
    filter_horizontal = ("interests",)
    # State and places move only through the services (state machine, row locks).
    readonly_fields = ("status", "places_taken", "published_at", "cancelled_at", "reminded_at")
    inlines = (HelperInline,)


@admin.register(JoinRequest)
class JoinRequestAdmin(admin.ModelAdmin):
    list_display = ("event", "user", "status", "waitlisted_at", "created_at", "decided_at")
    list_filter = (
        "status",
        ("waitlisted_at", admin.EmptyFieldListFilter),
        ("created_at", admin.DateFieldListFilter),
    )
    search_fields = ("event__title", "user__email")
    raw_id_fields = ("event", "user", "invite")
    readonly_fields = ("status", "waitlisted_at", "decided_at")


@admin.register(Invite)
class InviteAdmin(admin.ModelAdmin):
    list_display = ("event", "invitee", "invitee_email", "invitee_phone", "status", "expires_at")
    list_filter = ("status", ("invitee", admin.EmptyFieldListFilter))
    search_fields = ("event__title", "invitee__email", "invitee_email", "invitee_phone")
    raw_id_fields = ("event", "inviter", "invitee")
    readonly_fields = ("status", "responded_at")


@admin.register(Attendance)
class AttendanceAdmin(admin.ModelAdmin):
    list_display = ("event", "user", "status", "checked_in_at", "checked_out_at")
    list_filter = ("status",)
    search_fields = ("event__title", "user__email")
    raw_id_fields = ("event", "user")
    readonly_fields = ("status", "checked_in_at", "checked_out_at")


@admin.register(Ticket)
class TicketAdmin(admin.ModelAdmin):
    list_display = (
        "code",
        "event",
        "holder",
        "status",
        "inside",
        "price_minor",
        "currency",
        "refunded_minor",
        "created_at",
    )
    list_filter = (
        "status",
        "inside",
        ("refund_requested_at", admin.EmptyFieldListFilter),
        "currency",
    )
    search_fields = ("code", "event__title", "holder__email", "order_id")
    raw_id_fields = ("event", "holder", "request")
    readonly_fields = (
        "status", "code", "key_id", "issued_at", "order_id", "checkout_url", "payment_attempts",
        "hold_expires_at", "confirmed_at", "inside", "revoked_at", "revoke_reason",
        "refund_requested_at", "refunded_minor", "emailed_at",
    )  # fmt: skip


@admin.register(CheckIn)
class CheckInAdmin(admin.ModelAdmin):
    list_display = ("scanned_at", "event", "ticket", "direction", "result", "offline", "scanned_by")
    list_filter = ("result", "direction", "offline", ("scanned_at", admin.DateFieldListFilter))
    search_fields = ("event__title", "ticket__code", "nonce")
    raw_id_fields = ("event", "ticket", "scanned_by")

    def has_change_permission(self, request: object, obj: object = None) -> bool:
        return False  # the door's log is a record


class KeyInline(admin.TabularInline):
    model = OrganiserKey
    fields = ("key_id", "public_key", "active", "retired_at", "created_at")
    readonly_fields = fields
    extra = 0
    can_delete = False


@admin.register(Organiser)
class OrganiserAdmin(admin.ModelAdmin):
    list_display = ("user", "created_at")
    search_fields = ("user__email",)
    raw_id_fields = ("user",)
    inlines = (KeyInline,)
