"""The one error hierarchy every module raises. `core.api.handlers` maps it to the envelope."""

from __future__ import annotations

from typing import Any

from django.utils.translation import gettext_lazy as _


class ApplicationError(Exception):
    """A domain error with a stable machine-readable code and an HTTP status."""

    status_code = 400
    code = "bad_request"
    default_message: Any = _("The request could not be processed.")

    def __init__(
        self,
        message: Any = None,
        *,
        code: str | None = None,
        fields: dict[str, str] | None = None,
        status_code: int | None = None,
        extra: dict[str, Any] | None = None,
    ) -> None:
        self.message = str(message if message is not None else self.default_message)
        if code is not None:
            self.code = code
        if status_code is not None:
            self.status_code = status_code
        self.fields = fields or {}
        self.extra = extra or {}
        super().__init__(self.message)


class NotFoundError(ApplicationError):
    status_code = 404
    code = "not_found"
    default_message = _("The resource was not found.")


class AuthenticationRequiredError(ApplicationError):
    status_code = 401
    code = "not_authenticated"
    default_message = _("Authentication credentials were missing or invalid.")


class PermissionDeniedError(ApplicationError):
    status_code = 403
    code = "permission_denied"
    default_message = _("You do not have permission to perform this action.")


class ConflictError(ApplicationError):
    status_code = 409
    code = "conflict"
    default_message = _("The request conflicts with the current state of the resource.")


class InvalidInputError(ApplicationError):
    status_code = 422
    code = "validation_error"
    default_message = _("The request contains invalid data.")


class RateLimitedError(ApplicationError):
    status_code = 429
    code = "rate_limited"
    default_message = _("Too many requests. Try again later.")

    def __init__(self, *, retry_after: int, message: Any = None) -> None:
        super().__init__(message)
        self.retry_after = retry_after


class PayloadTooLargeError(ApplicationError):
    status_code = 413
    code = "payload_too_large"
    default_message = _("The request body is too large.")


class UnsupportedMediaTypeError(ApplicationError):
    status_code = 415
    code = "unsupported_media_type"
    default_message = _("The request body must be JSON (Content-Type: application/json).")


class MalformedRequestError(ApplicationError):
    status_code = 400
    code = "malformed_json"
    default_message = _("The request body is not valid JSON.")
