"""Error codes of the capsules module."""

from __future__ import annotations

from django.utils.translation import gettext_lazy as _

from tessera.core.errors import ConflictError, InvalidInputError


class CapsuleStateError(ConflictError):
    """A move the state machine does not allow; the code names the current state
    (`capsule_sealed`, `capsule_opened`, …)."""

    default_message = _("This capsule cannot do that in its current state.")

    def __init__(self, *, state: str, message: object = None) -> None:
        super().__init__(message, code=f"capsule_{state}", extra={"state": state})


class UnlockTimeInvalidError(InvalidInputError):
    code = "unlock_time_invalid"
    default_message = _("The unlock time must be more than 1 minute and at most 5 years ahead.")


class UnlockTimeNaiveError(InvalidInputError):
    code = "unlock_time_needs_zone"
    default_message = _("The unlock time must include a time zone (for example 2030-01-01T09:00Z).")


class ReceiverInvalidError(InvalidInputError):
    code = "receiver_invalid"
    default_message = _("The receiver does not exist.")


class MediaInvalidError(InvalidInputError):
    code = "capsule_media_invalid"
    default_message = _("A capsule holds at most 6 media files.")


class ReplyNotAllowedError(ConflictError):
    code = "capsule_reply_not_allowed"
    default_message = _("The sender did not allow replies, or you already replied.")
