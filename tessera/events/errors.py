"""Error codes of the events module."""

from __future__ import annotations

from typing import Any

from django.utils.translation import gettext_lazy as _

from tessera.core.errors import ConflictError, ErrorCode, InvalidInputError, NotFoundError


class EventsErrorCode(ErrorCode):
    EVENT_TIMES_INVALID = "event_times_invalid"
    EVENT_START_IN_PAST = "event_start_in_past"
    EVENT_TIMEZONE_INVALID = "event_timezone_invalid"
    EVENT_CAPACITY_INVALID = "event_capacity_invalid"
    EVENT_LOCATION_REQUIRED = "event_location_required"
    EVENT_NOT_EDITABLE = "event_not_editable"
    EVENT_DRAFT = "event_draft"
    EVENT_PUBLISHED = "event_published"
    EVENT_CANCELLED = "event_cancelled"
    EVENT_COMPLETED = "event_completed"
    EVENT_POSTPONED = "event_postponed"
    EVENT_FULL = "event_full"
    EVENT_PRICE_LOCKED = "event_price_locked"
    COORDINATES_INVALID = "coordinates_invalid"
    RADIUS_INVALID = "radius_invalid"
    REQUEST_EXISTS = "request_exists"
    REQUEST_DECLINED_BEFORE = "request_declined_before"
    REQUEST_OWN_EVENT = "request_own_event"
    REQUEST_PENDING = "request_pending"
    REQUEST_ACCEPTED = "request_accepted"
    REQUEST_DECLINED = "request_declined"
    REQUEST_CANCELLED = "request_cancelled"
    REQUEST_EXPIRED = "request_expired"
    INVITE_PENDING = "invite_pending"
    INVITE_ACCEPTED = "invite_accepted"
    INVITE_DECLINED = "invite_declined"
    INVITE_EXPIRED = "invite_expired"
    INVITE_EXISTS = "invite_exists"
    INVITEE_INVALID = "invitee_invalid"
    ATTENDANCE_HAS_PLACE = "attendance_has_place"
    ATTENDANCE_NO_PLACE = "attendance_no_place"
    TICKET_NOT_PAYABLE = "ticket_not_payable"
    HELPER_INVALID = "helper_invalid"
    NONCE_REUSED = "nonce_reused"
    SCAN_TIME_INVALID = "scan_time_invalid"
    TICKET_OR_CODE_REQUIRED = "ticket_or_code_required"
    # The answers of a door scan that is refused (the scan is still recorded).
    ALREADY_CHECKED_IN = "already_checked_in"
    NOT_CHECKED_IN = "not_checked_in"
    NOT_PAID = "not_paid"
    WRONG_EVENT = "wrong_event"
    REVOKED = "revoked"
    EXPIRED = "expired"
    UNKNOWN = "unknown"


class StateError(ConflictError):
    """A move the state machine does not allow; the code names what and its current state
    (`event_cancelled`, `request_accepted`, `invite_expired`, …)."""

    default_message = _("This cannot be done in its current state.")

    def __init__(self, *, entity: str, state: str, message: Any = None) -> None:
        code = EventsErrorCode(f"{entity}_{state}")
        super().__init__(message, code=code, extra={"state": state})


class EventTimesInvalidError(InvalidInputError):
    code = EventsErrorCode.EVENT_TIMES_INVALID
    default_message = _("The event must end after it starts.")


class EventStartInPastError(InvalidInputError):
    code = EventsErrorCode.EVENT_START_IN_PAST
    default_message = _("An event cannot be published with a start in the past.")


class TimezoneInvalidError(InvalidInputError):
    code = EventsErrorCode.EVENT_TIMEZONE_INVALID
    default_message = _("The time zone is not a known IANA name (such as Africa/Johannesburg).")


class CapacityInvalidError(InvalidInputError):
    code = EventsErrorCode.EVENT_CAPACITY_INVALID
    default_message = _("The capacity must be at least 1 and not below the places already taken.")


class LocationRequiredError(InvalidInputError):
    code = EventsErrorCode.EVENT_LOCATION_REQUIRED
    default_message = _("An event needs a venue or an online link.")


class PriceLockedError(ConflictError):
    code = EventsErrorCode.EVENT_PRICE_LOCKED
    default_message = _("The price cannot change once tickets have been issued.")


class EventFullError(ConflictError):
    code = EventsErrorCode.EVENT_FULL
    default_message = _("The event is full.")


class CoordinatesInvalidError(InvalidInputError):
    code = EventsErrorCode.COORDINATES_INVALID
    default_message = _("Latitude must be within ±90 and longitude within ±180 degrees.")


class RadiusInvalidError(InvalidInputError):
    code = EventsErrorCode.RADIUS_INVALID
    default_message = _("The search radius is out of range.")


class RequestExistsError(ConflictError):
    code = EventsErrorCode.REQUEST_EXISTS
    default_message = _("You already asked to join this event.")


class RequestDeclinedBeforeError(ConflictError):
    code = EventsErrorCode.REQUEST_DECLINED_BEFORE
    default_message = _("The host declined your request for this event.")


class OwnEventError(ConflictError):
    code = EventsErrorCode.REQUEST_OWN_EVENT
    default_message = _("You host this event: you cannot request, accept or invite yourself.")


class InviteExistsError(ConflictError):
    code = EventsErrorCode.INVITE_EXISTS
    default_message = _("This person already has a pending invitation to this event.")


class InviteeInvalidError(InvalidInputError):
    code = EventsErrorCode.INVITEE_INVALID
    default_message = _("Give exactly one of userId, email or phone.")


class HasPlaceError(ConflictError):
    code = EventsErrorCode.ATTENDANCE_HAS_PLACE
    default_message = _("You hold a place: cancel it to change your answer.")


class NoPlaceError(ConflictError):
    code = EventsErrorCode.ATTENDANCE_NO_PLACE
    default_message = _("You hold no place at this event.")


class TicketNotPayableError(ConflictError):
    code = EventsErrorCode.TICKET_NOT_PAYABLE
    default_message = _("There is no ticket of yours waiting for payment.")


class HelperInvalidError(InvalidInputError):
    code = EventsErrorCode.HELPER_INVALID
    default_message = _("No such user.")


class NonceReusedError(ConflictError):
    code = EventsErrorCode.NONCE_REUSED
    default_message = _("This scan nonce was already used for another ticket.")


class ScanTimeInvalidError(InvalidInputError):
    code = EventsErrorCode.SCAN_TIME_INVALID
    default_message = _("The scan time must include a time zone and not be in the future.")


class TicketOrCodeRequiredError(InvalidInputError):
    code = EventsErrorCode.TICKET_OR_CODE_REQUIRED
    default_message = _("Give exactly one of ticket (the QR secret) or code.")


class EventNotFoundError(NotFoundError):
    default_message = _("The event was not found.")


SCAN_MESSAGES: dict[str, Any] = {
    "ok": _("Welcome in."),
    "already_checked_in": _("This ticket is already checked in."),
    "not_checked_in": _("This ticket is not checked in: no exit to record."),
    "not_paid": _("This ticket is not paid."),
    "wrong_event": _("This ticket is for another event."),
    "revoked": _("This ticket was revoked."),
    "expired": _("This ticket has expired."),
    "unknown": _("This is not a ticket we know."),
}
# HTTP status of a refused scan's answer.
SCAN_STATUS = {
    "already_checked_in": 409,
    "not_checked_in": 409,
    "not_paid": 409,
    "revoked": 409,
    "wrong_event": 422,
    "expired": 422,
    "unknown": 422,
}


class ScanRefusedError(ConflictError):
    """A scan answered with anything but ok. It is still recorded (the door's log), so the
    answer is replayed for a retried nonce."""

    def __init__(self, *, result: str, scan: dict[str, Any]) -> None:
        super().__init__(
            SCAN_MESSAGES[result],
            code=EventsErrorCode(result),
            status_code=SCAN_STATUS[result],
            extra={"scan": scan},
        )
