"""Every exception an API view can raise, mapped once to the error envelope."""

from __future__ import annotations

import math
from typing import TYPE_CHECKING, Any

import structlog
from django.core.exceptions import (
    ObjectDoesNotExist,
    PermissionDenied,
    RequestDataTooBig,
    SuspiciousOperation,
)
from django.core.exceptions import ValidationError as DjangoValidationError
from django.http import Http404, HttpRequest, HttpResponse
from django.utils.translation import gettext as _
from ninja.errors import AuthenticationError, AuthorizationError, HttpError, Throttled
from ninja.errors import ValidationError as NinjaValidationError
from pydantic.alias_generators import to_camel

from tessera.core.envelope import error_response
from tessera.core.errors import ApplicationError, RateLimitedError

if TYPE_CHECKING:
    from ninja import NinjaAPI

logger = structlog.get_logger("tessera.api")

CODE_BY_STATUS = {
    400: "bad_request",
    401: "not_authenticated",
    403: "permission_denied",
    404: "not_found",
    405: "method_not_allowed",
    409: "conflict",
    413: "payload_too_large",
    415: "unsupported_media_type",
    422: "validation_error",
    429: "rate_limited",
    500: "internal_error",
    503: "service_unavailable",
}

_LOCATION_CODES = {
    "path": "invalid_path_parameter",
    "query": "invalid_query_parameter",
    "header": "invalid_header",
    "cookie": "invalid_cookie",
}


def _is_tag(part: Any) -> bool:
    """A step of a pydantic error location that names a validator or a tagged union member
    (`function-wrap[_run_root_validator()]`, `<password>`), not a field the client sent."""
    return isinstance(part, str) and ("[" in part or "(" in part or part.startswith("<"))


def _client_name(part: Any) -> str:
    # Fields are reported by the camelCase name a client sends (snake_case is accepted too,
    # but the schema documents camelCase); list indexes stay numbers.
    text = str(part)
    return to_camel(text) if "_" in text.strip("_") else text


def _field_name(loc: tuple[Any, ...] | list[Any]) -> str:
    parts = list(loc[1:]) if len(loc) > 1 else [loc[0]]
    # Ninja nests the whole body under its parameter name; drop it for a readable path.
    if len(parts) > 1 and parts[0] in {"payload", "body", "data", "filters", "params"}:
        parts = parts[1:]
    names = [_client_name(part) for part in parts if not _is_tag(part)]
    return ".".join(names) or "body"


def _field_message(error: dict[str, Any]) -> str:
    if error.get("type") == "extra_forbidden":
        return _("Unknown field: this request does not take it.")
    return str(error.get("msg", "Invalid value."))


def validation_fields(errors: list[dict[str, Any]]) -> tuple[str, dict[str, str]]:
    fields: dict[str, str] = {}
    locations = set()
    for error in errors:
        loc = error.get("loc") or ("body",)
        locations.add(str(loc[0]))
        name = _field_name(loc)
        fields.setdefault(name, _field_message(error))
    code = "validation_error"
    if len(locations) == 1:
        code = _LOCATION_CODES.get(next(iter(locations)), code)
    return code, fields


def _unknown_fields(errors: list[dict[str, Any]]) -> list[str]:
    return [
        _field_name(error.get("loc") or ("body",))
        for error in errors
        if error.get("type") == "extra_forbidden"
    ]


def on_application_error(request: HttpRequest, exc: ApplicationError) -> HttpResponse:
    response = error_response(
        request,
        status=exc.status_code,
        code=exc.code,
        message=exc.message,
        fields=exc.fields,
        extra=exc.extra,
    )
    if isinstance(exc, RateLimitedError):
        response["Retry-After"] = str(exc.retry_after)
    return response


def on_validation_error(request: HttpRequest, exc: NinjaValidationError) -> HttpResponse:
    errors = list(exc.errors)
    code, fields = validation_fields(errors)
    unknown = _unknown_fields(errors)
    if unknown and len(unknown) == len(fields):
        message = _("Unknown field(s): %(fields)s.") % {"fields": ", ".join(unknown)}
        code = "unknown_field"
    else:
        message = _("The request contains invalid data.")
    return error_response(request, status=422, code=code, message=message, fields=fields)


def on_django_validation_error(request: HttpRequest, exc: DjangoValidationError) -> HttpResponse:
    if hasattr(exc, "error_dict"):
        fields = {name: " ".join(str(m) for m in msgs) for name, msgs in exc.message_dict.items()}
    else:
        fields = {}
    message = " ".join(exc.messages) if not fields else _("The request contains invalid data.")
    return error_response(
        request, status=422, code="validation_error", message=message, fields=fields
    )


def on_http_error(request: HttpRequest, exc: HttpError) -> HttpResponse:
    # Ninja wraps whatever the body parser raises in HttpError(400, "Cannot parse request
    # body"); the parser's own error (415, malformed JSON) is the one to report.
    if isinstance(exc.__cause__, ApplicationError):
        return on_application_error(request, exc.__cause__)
    status = exc.status_code
    message = str(exc.message)
    if isinstance(exc, AuthenticationError):
        message = _("Authentication credentials were missing or invalid.")
    elif isinstance(exc, AuthorizationError):
        message = _("You do not have permission to perform this action.")
    elif isinstance(exc, Throttled):
        message = _("Too many requests. Try again later.")
    response = error_response(
        request, status=status, code=CODE_BY_STATUS.get(status, "error"), message=message
    )
    if isinstance(exc, Throttled) and getattr(exc, "wait", None):
        response["Retry-After"] = str(math.ceil(exc.wait))  # type: ignore[arg-type]
    return response


def on_not_found(request: HttpRequest, exc: Exception) -> HttpResponse:
    return error_response(
        request, status=404, code="not_found", message=_("The resource was not found.")
    )


def on_permission_denied(request: HttpRequest, exc: Exception) -> HttpResponse:
    return error_response(
        request,
        status=403,
        code="permission_denied",
        message=_("You do not have permission to perform this action."),
    )


def on_too_big(request: HttpRequest, exc: Exception) -> HttpResponse:
    return error_response(
        request, status=413, code="payload_too_large", message=_("The request body is too large.")
    )


def on_suspicious(request: HttpRequest, exc: Exception) -> HttpResponse:
    # Django's own handler answers these 400 (a Host not in ALLOWED_HOSTS, a tampered
    # signature): something the client sent, never a server error.
    logger.warning("suspicious_request", error=f"{type(exc).__name__}: {exc}")
    return error_response(
        request, status=400, code="bad_request", message=_("The request was refused as unsafe.")
    )


def on_unexpected_error(request: HttpRequest, exc: Exception) -> HttpResponse:
    logger.error("unhandled_api_error", exc_info=exc)
    return internal_error_response(request)


def internal_error_response(request: HttpRequest | None) -> HttpResponse:
    return error_response(
        request,
        status=500,
        code="internal_error",
        message=_("Something went wrong on our side. Quote the request id if you contact us."),
    )


def install(api: NinjaAPI) -> None:
    handlers: list[tuple[type[Exception], Any]] = [
        (ApplicationError, on_application_error),
        (NinjaValidationError, on_validation_error),
        (DjangoValidationError, on_django_validation_error),
        (HttpError, on_http_error),
        (Http404, on_not_found),
        (ObjectDoesNotExist, on_not_found),
        (PermissionDenied, on_permission_denied),
        (RequestDataTooBig, on_too_big),
        (SuspiciousOperation, on_suspicious),
        (Exception, on_unexpected_error),
    ]
    for exc_class, handler in handlers:
        api.add_exception_handler(exc_class, handler)
