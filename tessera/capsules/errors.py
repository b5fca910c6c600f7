"""Error codes of the capsules module."""

from __future__ import annotations

from django.utils.translation import gettext_lazy as _

from tessera.core.errors import ConflictError, ErrorCode, InvalidInputError


class CapsulesErrorCode(ErrorCode):
    # `CapsuleStateError`: one code per state a refused move can find a capsule in.
    CAPSULE_DRAFT = "capsule_draft"
    CAPSULE_SEALED = "capsule_sealed"
    CAPSULE_UNFOLDING = "capsule_unfolding"
    CAPSULE_READY = "capsule_ready"
    CAPSULE_OPENED = "capsule_opened"
    UNLOCK_TIME_INVALID = "unlock_time_invalid"
    UNLOCK_TIME_NEEDS_ZONE = "unlock_time_needs_zone"
    RECEIVER_INVALID = "receiver_invalid"
    CAPSULE_MEDIA_INVALID = "capsule_media_invalid"
    CAPSULE_REPLY_NOT_ALLOWED = "capsule_reply_not_allowed"


class CapsuleStateError(ConflictError):
    """A move the state machine does not allow; the code names the current state
    (`capsule_sealed`, `capsule_opened`, …)."""

    default_message = _("This capsule cannot do that in its current state.")

    def __init__(self, *, state: str, message: object = None) -> None:
        super().__init__(
            message, code=CapsulesErrorCode(f"capsule_{state}"), extra={"state": state}
        )


class UnlockTimeInvalidError(InvalidInputError):
    code = CapsulesErrorCode.UNLOCK_TIME_INVALID
    default_message = _("The unlock time must be more than 1 minute and at most 5 years ahead.")


class UnlockTimeNaiveError(InvalidInputError):
    code = CapsulesErrorCode.UNLOCK_TIME_NEEDS_ZONE
    default_message = _("The unlock time must include a time zone (for example 2030-01-01T09:00Z).")


class ReceiverInvalidError(InvalidInputError):
    code = CapsulesErrorCode.RECEIVER_INVALID
    default_message = _("The receiver does not exist.")


class MediaInvalidError(InvalidInputError):
    code = CapsulesErrorCode.CAPSULE_MEDIA_INVALID
    default_message = _("A capsule holds at most 6 media files.")


class ReplyNotAllowedError(ConflictError):
    code = CapsulesErrorCode.CAPSULE_REPLY_NOT_ALLOWED
    default_message = _("The sender did not allow replies, or you already replied.")
