"""The notifications module's error codes.

`ApplicationError` subclasses reach API clients through the envelope; the two delivery
errors never leave the module: the delivery service maps them to a delivery's status and
the task retries the transient one.
"""

from __future__ import annotations

from django.utils.translation import gettext_lazy as _

from tessera.core.errors import ApplicationError, ErrorCode, InvalidInputError, NotFoundError


class NotificationsErrorCode(ErrorCode):
    NOTIFICATION_NOT_FOUND = "notification_not_found"
    NOTIFICATION_TEMPLATE_NOT_FOUND = "notification_template_not_found"
    NOTIFICATION_TEMPLATE_INVALID = "notification_template_invalid"
    INVALID_RECIPIENT = "invalid_recipient"
    DUPLICATE_PREFERENCE = "duplicate_preference"
    INVALID_CHANNEL = "invalid_channel"


class NotificationNotFoundError(NotFoundError):
    code = NotificationsErrorCode.NOTIFICATION_NOT_FOUND
    default_message = _("No notification with this id.")


class TemplateNotFoundError(ApplicationError):
    """A caller asked for a kind and channel that has no template (a programming error)."""

    status_code = 500
    code = NotificationsErrorCode.NOTIFICATION_TEMPLATE_NOT_FOUND
    default_message = _("No notification template matches this kind and channel.")


class TemplateRenderError(ApplicationError):
    """A stored template does not compile or fails while rendering."""

    status_code = 500
    code = NotificationsErrorCode.NOTIFICATION_TEMPLATE_INVALID
    default_message = _("The notification template could not be rendered.")


class InvalidRecipientError(InvalidInputError):
    code = NotificationsErrorCode.INVALID_RECIPIENT
    default_message = _("The recipient address is not valid.")


class DuplicatePreferenceError(InvalidInputError):
    code = NotificationsErrorCode.DUPLICATE_PREFERENCE
    default_message = _("Each kind and channel may appear only once.")


class DeliveryError(Exception):
    """A provider could not send one message."""


class PermanentDeliveryError(DeliveryError):
    """Sending again would fail the same way (bad number, rejected request, no config)."""


class TransientDeliveryError(DeliveryError):
    """The provider or the network was briefly unavailable: worth retrying later."""


class RateLimitedDeliveryError(TransientDeliveryError):
    """The provider refused for now because of its rate limit (HTTP 429): stop sending on
    this channel for `retry_after` seconds (the provider's Retry-After, when it sent one)."""

    def __init__(self, message: str, *, retry_after: float | None = None) -> None:
        super().__init__(message)
        self.retry_after = retry_after
