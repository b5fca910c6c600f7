"""Every exception an API view can raise, mapped once to the error envelope by `render_error`."""

from __future__ import annotations

import math
from collections.abc import Callable
from functools import wraps
from typing import TYPE_CHECKING, Any

import structlog
from django.core.exceptions import (
    ObjectDoesNotExist,
    PermissionDenied,
    RequestDataTooBig,
    SuspiciousOperation,
)
from django.core.exceptions import ValidationError as DjangoValidationError
from django.http import Http404, HttpRequest, HttpResponse, HttpResponseBase
from django.utils.translation import gettext as _
from ninja.errors import AuthenticationError, AuthorizationError, HttpError, Throttled
from ninja.errors import ValidationError as NinjaValidationError
from pydantic.alias_generators import to_camel

from tessera.core.envelope import JSON_CONTENT_TYPE, dumps, error_payload
from tessera.core.errors import (
    ApplicationError,
    AuthenticationRequiredError,
    ConflictError,
    CoreErrorCode,
    InternalError,
    InvalidInputError,
    MethodNotAllowedError,
    NotFoundError,
    PayloadTooLargeError,
    PermissionDeniedError,
    RateLimitedError,
    ServiceUnavailableError,
    UnsupportedMediaTypeError,
)
from tessera.core.outages import CACHE_CONNECTION_ERRORS, outage_report

if TYPE_CHECKING:
    from ninja import NinjaAPI

logger = structlog.get_logger("tessera.api")

_LOCATION_CODES = {
    "path": CoreErrorCode.INVALID_PATH_PARAMETER,
    "query": CoreErrorCode.INVALID_QUERY_PARAMETER,
    "header": CoreErrorCode.INVALID_HEADER,
    "cookie": CoreErrorCode.INVALID_COOKIE,
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
    # A request with no body at all is missing the parameter itself (`body.payload`): that
    # is the body, not a field named "payload".
    if (
        parts
        and parts[0] in {"payload", "body", "data", "filters", "params"}
        and (len(parts) > 1 or loc[0] == "body")
    ):
        parts = parts[1:]
    names = [_client_name(part) for part in parts if not _is_tag(part)]
    return ".".join(names) or "body"


def _field_message(error: dict[str, Any]) -> str:
    if error.get("type") == "extra_forbidden":
        return _("Unknown field: this request does not take it.")
    return str(error.get("msg", "Invalid value."))


def validation_fields(errors: list[dict[str, Any]]) -> tuple[CoreErrorCode, dict[str, str]]:
    fields: dict[str, str] = {}
    locations = set()
    for error in errors:
        loc = error.get("loc") or ("body",)
        locations.add(str(loc[0]))
        name = _field_name(loc)
        fields.setdefault(name, _field_message(error))
    code = CoreErrorCode.VALIDATION_ERROR
    if len(locations) == 1:
        code = _LOCATION_CODES.get(next(iter(locations)), code)
    return code, fields


def _unknown_fields(errors: list[dict[str, Any]]) -> list[str]:
    return [
        _field_name(error.get("loc") or ("body",))
        for error in errors
        if error.get("type") == "extra_forbidden"
    ]


def render_error(request: HttpRequest | None, error: ApplicationError) -> HttpResponse:
    """The one place an error reply is written: every refusal, whoever makes it (a route, the
    middleware, Django's 404/500 views, metrics, the files views), reaches the client as an
    `ApplicationError` rendered here. `tests/test_error_codes.py` keeps it so."""
    request_id = getattr(request, "request_id", None) if request is not None else None
    body = error_payload(
        code=error.code,
        message=error.message,
        fields=error.fields,
        request_id=request_id,
        extra=error.extra,
    )
    response = HttpResponse(dumps(body), status=error.status_code, content_type=JSON_CONTENT_TYPE)
    response.tessera_envelope = True  # type: ignore[attr-defined]
    if isinstance(error, RateLimitedError):
        response["Retry-After"] = str(error.retry_after)
    return response


def renders_errors(view: Callable[..., HttpResponseBase]) -> Callable[..., HttpResponseBase]:
    """For a plain Django view (outside Ninja): an `ApplicationError` it raises is rendered
    by `render_error`, as a route's would be."""

    @wraps(view)
    def wrapper(request: HttpRequest, *args: Any, **kwargs: Any) -> HttpResponseBase:
        try:
            return view(request, *args, **kwargs)
        except ApplicationError as error:
            return render_error(request, error)

    return wrapper


_ERROR_BY_STATUS: dict[int, type[ApplicationError]] = {
    401: AuthenticationRequiredError,
    403: PermissionDeniedError,
    404: NotFoundError,
    405: MethodNotAllowedError,
    409: ConflictError,
    413: PayloadTooLargeError,
    415: UnsupportedMediaTypeError,
    422: InvalidInputError,
    503: ServiceUnavailableError,
}


def error_for_status(status: int, message: Any = None) -> ApplicationError:
    """The error a bare HTTP status stands for (Ninja's `HttpError`, a reply Django made
    itself): its class when there is one, else a 400-family `bad_request` or a 500."""
    if status >= 500 and status != 503:
        return InternalError()
    if status == 429:
        return RateLimitedError(retry_after=1, message=message)
    error_class = _ERROR_BY_STATUS.get(status)
    if error_class is not None:
        return error_class(message)
    return ApplicationError(message, status_code=status)


def on_application_error(request: HttpRequest, exc: ApplicationError) -> HttpResponse:
    return render_error(request, exc)


def on_validation_error(request: HttpRequest, exc: NinjaValidationError) -> HttpResponse:
    errors = list(exc.errors)
    code, fields = validation_fields(errors)
    unknown = _unknown_fields(errors)
    if unknown and len(unknown) == len(fields):
        message = _("Unknown field(s): %(fields)s.") % {"fields": ", ".join(unknown)}
        code = CoreErrorCode.UNKNOWN_FIELD
    else:
        message = _("The request contains invalid data.")
    return render_error(request, InvalidInputError(message, code=code, fields=fields))


def on_django_validation_error(request: HttpRequest, exc: DjangoValidationError) -> HttpResponse:
    if hasattr(exc, "error_dict"):
        # A model's full_clean() names its fields (`online_url`); the client sent `onlineUrl`.
        fields = {
            _client_name(name): " ".join(str(m) for m in msgs)
            for name, msgs in exc.message_dict.items()
        }
    else:
        fields = {}
    message = " ".join(exc.messages) if not fields else _("The request contains invalid data.")
    return render_error(request, InvalidInputError(message, fields=fields))


def on_http_error(request: HttpRequest, exc: HttpError) -> HttpResponse:
    # Ninja wraps whatever the body parser raises in HttpError(400, "Cannot parse request
    # body"); the parser's own error (415, malformed JSON) is the one to report.
    if isinstance(exc.__cause__, ApplicationError):
        return render_error(request, exc.__cause__)
    if isinstance(exc, AuthenticationError):
        return render_error(request, AuthenticationRequiredError())
    if isinstance(exc, AuthorizationError):
        return render_error(request, PermissionDeniedError())
    if isinstance(exc, Throttled):
        wait = getattr(exc, "wait", None)
        return render_error(request, RateLimitedError(retry_after=math.ceil(wait or 1)))
    return render_error(request, error_for_status(exc.status_code, str(exc.message)))


def on_not_found(request: HttpRequest, exc: Exception) -> HttpResponse:
    return render_error(request, NotFoundError())


def on_permission_denied(request: HttpRequest, exc: Exception) -> HttpResponse:
    return render_error(request, PermissionDeniedError())


def on_too_big(request: HttpRequest, exc: Exception) -> HttpResponse:
    return render_error(request, PayloadTooLargeError())


def on_suspicious(request: HttpRequest, exc: Exception) -> HttpResponse:
    # Django's own handler answers these 400 (a Host not in ALLOWED_HOSTS, a tampered
    # signature): something the client sent, never a server error.
    logger.warning("suspicious_request", error=f"{type(exc).__name__}: {exc}")
    return render_error(request, ApplicationError(_("The request was refused as unsafe.")))


def on_backing_service_down(request: HttpRequest, exc: Exception) -> HttpResponse:
    # A cache read the code does not fall back from (most do): the server is away, not the
    # request wrong or our code broken, so 503 (retry shortly), told once per interval.
    outage_report("cache", exc, event="cache_unreachable_in_request")
    return render_error(request, ServiceUnavailableError())


def on_unexpected_error(request: HttpRequest, exc: Exception) -> HttpResponse:
    logger.error("unhandled_api_error", exc_info=exc)
    return render_error(request, InternalError())


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
        *((error, on_backing_service_down) for error in CACHE_CONNECTION_ERRORS),
        (Exception, on_unexpected_error),
    ]
    for exc_class, handler in handlers:
        api.add_exception_handler(exc_class, handler)
