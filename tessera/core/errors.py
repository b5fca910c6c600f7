"""The one error hierarchy every module raises. `core.api.handlers` maps it to the envelope.

Error codes are enums: each module declares `class <Module>ErrorCode(ErrorCode)` in its
`errors.py` and its error classes take their `code` from it. Every member of every
`ErrorCode` subclass is listed as the `enum` of `error.code` in the OpenAPI schema
(`all_error_codes`), so a client can switch over them.
"""

from __future__ import annotations

import importlib
from enum import StrEnum
from typing import Any

from django.utils.translation import gettext_lazy as _


class ErrorCode(StrEnum):
    """Base of every module's error code enum (it has no members of its own)."""


class CoreErrorCode(ErrorCode):
    BAD_REQUEST = "bad_request"
    MALFORMED_JSON = "malformed_json"
    NOT_AUTHENTICATED = "not_authenticated"
    PERMISSION_DENIED = "permission_denied"
    NOT_FOUND = "not_found"
    METHOD_NOT_ALLOWED = "method_not_allowed"
    CONFLICT = "conflict"
    PAYLOAD_TOO_LARGE = "payload_too_large"
    UNSUPPORTED_MEDIA_TYPE = "unsupported_media_type"
    VALIDATION_ERROR = "validation_error"
    UNKNOWN_FIELD = "unknown_field"
    BODY_NOT_ACCEPTED = "body_not_accepted"
    INVALID_PATH_PARAMETER = "invalid_path_parameter"
    INVALID_QUERY_PARAMETER = "invalid_query_parameter"
    INVALID_HEADER = "invalid_header"
    INVALID_COOKIE = "invalid_cookie"
    INVALID_CURSOR = "invalid_cursor"
    IDEMPOTENCY_KEY_REUSED = "idempotency_key_reused"
    IDEMPOTENCY_REQUEST_IN_FLIGHT = "idempotency_request_in_flight"
    RATE_LIMITED = "rate_limited"
    INTERNAL_ERROR = "internal_error"
    SERVICE_UNAVAILABLE = "service_unavailable"
    # Amounts and currencies, refused by tessera.core.money.
    AMOUNT_INVALID = "amount_invalid"
    AMOUNT_NOT_POSITIVE = "amount_not_positive"
    AMOUNT_TOO_PRECISE = "amount_too_precise"
    AMOUNT_TOO_LARGE = "amount_too_large"
    CURRENCY_UNKNOWN = "currency_unknown"
    CURRENCY_NOT_ACCEPTED = "currency_not_accepted"


def _subclasses(base: type[ErrorCode]) -> list[type[ErrorCode]]:
    found: list[type[ErrorCode]] = []
    for subclass in base.__subclasses__():
        found.append(subclass)
        found.extend(_subclasses(subclass))
    return found


def error_code_enums() -> list[type[ErrorCode]]:
    """The `ErrorCode` enum of every installed module (imports each app's `errors`).

    Only enums declared in a module's `errors.py` count: an enum a test defines for itself
    must not change what the schema promises."""
    from django.apps import apps

    modules = set()
    for app_config in apps.get_app_configs():
        if app_config.name.startswith("tessera."):
            module = f"{app_config.name}.errors"
            try:
                importlib.import_module(module)
            except ModuleNotFoundError as exc:
                if exc.name != module:
                    raise
                continue
            modules.add(module)
    return [enum for enum in _subclasses(ErrorCode) if enum.__module__ in modules]


def all_error_codes() -> list[str]:
    """Every error code of every installed module, sorted."""
    return sorted({member.value for enum in error_code_enums() for member in enum})


class ApplicationError(Exception):
    """A domain error with a stable machine-readable code and an HTTP status."""

    status_code = 400
    code: ErrorCode = CoreErrorCode.BAD_REQUEST
    default_message: Any = _("The request could not be processed.")

    def __init__(
        self,
        message: Any = None,
        *,
        code: ErrorCode | None = None,
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
    code: ErrorCode = CoreErrorCode.NOT_FOUND
    default_message = _("The resource was not found.")


class AuthenticationRequiredError(ApplicationError):
    status_code = 401
    code: ErrorCode = CoreErrorCode.NOT_AUTHENTICATED
    default_message = _("Authentication credentials were missing or invalid.")


class PermissionDeniedError(ApplicationError):
    status_code = 403
    code: ErrorCode = CoreErrorCode.PERMISSION_DENIED
    default_message = _("You do not have permission to perform this action.")


class ConflictError(ApplicationError):
    status_code = 409
    code: ErrorCode = CoreErrorCode.CONFLICT
    default_message = _("The request conflicts with the current state of the resource.")


class InvalidInputError(ApplicationError):
    status_code = 422
    code: ErrorCode = CoreErrorCode.VALIDATION_ERROR
    default_message = _("The request contains invalid data.")


class RateLimitedError(ApplicationError):
    status_code = 429
    code: ErrorCode = CoreErrorCode.RATE_LIMITED
    default_message = _("Too many requests. Try again later.")

    def __init__(self, *, retry_after: int, message: Any = None) -> None:
        super().__init__(message)
        self.retry_after = retry_after


class PayloadTooLargeError(ApplicationError):
    status_code = 413
    code: ErrorCode = CoreErrorCode.PAYLOAD_TOO_LARGE
    default_message = _("The request body is too large.")


class UnsupportedMediaTypeError(ApplicationError):
    status_code = 415
    code: ErrorCode = CoreErrorCode.UNSUPPORTED_MEDIA_TYPE
    default_message = _("The request body must be JSON (Content-Type: application/json).")


class MalformedRequestError(ApplicationError):
    status_code = 400
    code: ErrorCode = CoreErrorCode.MALFORMED_JSON
    default_message = _("The request body is not valid JSON.")


class MethodNotAllowedError(ApplicationError):
    status_code = 405
    code: ErrorCode = CoreErrorCode.METHOD_NOT_ALLOWED
    default_message = _("This method is not allowed on this path.")


class InvalidCursorError(InvalidInputError):
    """A pagination cursor this server did not hand out, or one altered since (cursors are
    signed: tessera.core.pagination)."""

    code: ErrorCode = CoreErrorCode.INVALID_CURSOR
    default_message = _("The cursor is not valid.")

    def __init__(self, message: Any = None) -> None:
        super().__init__(
            message, fields={"cursor": str(_("Use the cursor of a previous page, unchanged."))}
        )


class InternalError(ApplicationError):
    """What a client sees of a failure on our side: no detail, the request id to quote."""

    status_code = 500
    code: ErrorCode = CoreErrorCode.INTERNAL_ERROR
    default_message = _("Something went wrong on our side. Quote the request id if you contact us.")


class ServiceUnavailableError(ApplicationError):
    status_code = 503
    code: ErrorCode = CoreErrorCode.SERVICE_UNAVAILABLE
    default_message = _("The service is unavailable. Try again shortly.")
