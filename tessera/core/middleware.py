"""Request-level middleware: request id and access log, body limit, default rate limit,
security headers, and the browser-only wrappers that keep sessions and CSRF off the API."""

from __future__ import annotations

import re
import time
import uuid
from collections.abc import Callable
from typing import Any

import structlog
from django.conf import settings
from django.contrib.auth.middleware import AuthenticationMiddleware
from django.contrib.messages.middleware import MessageMiddleware
from django.contrib.sessions.middleware import SessionMiddleware
from django.http import HttpRequest, HttpResponse
from django.middleware.clickjacking import XFrameOptionsMiddleware
from django.middleware.common import CommonMiddleware
from django.middleware.csrf import CsrfViewMiddleware
from django.middleware.locale import LocaleMiddleware as DjangoLocaleMiddleware
from django.utils import translation
from django.utils.translation import gettext as _

from tessera.core import ratelimit
from tessera.core.client_ip import client_ip
from tessera.core.envelope import error_response
from tessera.core.metrics import observe_request

access_logger = structlog.get_logger("tessera.access")
_SUPPORTED_LANGUAGES = frozenset(code for code, _name in settings.LANGUAGES)
_REQUEST_ID = re.compile(r"^[A-Za-z0-9._:-]{1,128}$")
API_PREFIX: str = settings.API_PREFIX


def is_api_path(path: str) -> bool:
    return path.startswith(API_PREFIX)


class RequestContextMiddleware:
    """Accept or generate `X-Request-ID`, bind it to logs, envelope bare API errors, log once."""

    def __init__(self, get_response: Callable[[HttpRequest], HttpResponse]) -> None:
        self.get_response = get_response

    def __call__(self, request: HttpRequest) -> HttpResponse:
        started = time.perf_counter()
        incoming = request.META.get("HTTP_X_REQUEST_ID", "")
        request_id = incoming if _REQUEST_ID.match(incoming) else uuid.uuid4().hex
        request.request_id = request_id  # type: ignore[attr-defined]
        structlog.contextvars.clear_contextvars()
        structlog.contextvars.bind_contextvars(request_id=request_id)

        response = self.get_response(request)

        if is_api_path(request.path_info) and not getattr(response, "tessera_envelope", False):
            response = _envelope_bare_response(request, response)
        response["X-Request-ID"] = request_id
        elapsed = time.perf_counter() - started
        observe_request(request.method or "", response.status_code, elapsed)
        auth = getattr(request, "auth", None)
        match = getattr(request, "resolver_match", None)
        access_logger.info(
            "request",
            method=request.method,
            path=request.path_info,
            route=match.route if match is not None else None,
            status=response.status_code,
            duration_ms=round(elapsed * 1000, 2),
            user_id=str(getattr(auth, "pk", "")) or None,
            ip=client_ip(request),
        )
        return response


def _envelope_bare_response(request: HttpRequest, response: HttpResponse) -> HttpResponse:
    """Django itself answers some API requests (unknown path, wrong method): envelope them."""
    status = response.status_code
    if status < 400 or response.get("Content-Type", "").startswith("application/json"):
        return response
    messages = {
        404: ("not_found", _("No API route matches this path.")),
        405: ("method_not_allowed", _("This method is not allowed on this path.")),
        413: ("payload_too_large", _("The request body is too large.")),
    }
    code, message = messages.get(status, ("error", response.reason_phrase))
    if status >= 500:
        code = "internal_error"
        message = _("Something went wrong on our side. Quote the request id if you contact us.")
    wrapped = error_response(request, status=status, code=code, message=message)
    # Keep what the inner middleware added (Allow, security headers, Vary, CORS).
    for header, value in response.items():
        if header.lower() not in {"content-type", "content-length"}:
            wrapped[header] = value
    return wrapped


class LocaleMiddleware(DjangoLocaleMiddleware):
    """`?lang=en|ar` wins over `Accept-Language`; an unknown value falls back to the header."""

    def process_request(self, request: HttpRequest) -> None:
        if "lang=" in request.META.get("QUERY_STRING", ""):
            language = request.GET.get("lang", "")
            if language in _SUPPORTED_LANGUAGES:
                translation.activate(language)
                request.LANGUAGE_CODE = language
                return
        super().process_request(request)


class BodySizeLimitMiddleware:
    """Refuse an API JSON body over `API_MAX_BODY_BYTES` with 413 before anything reads it."""

    def __init__(self, get_response: Callable[[HttpRequest], HttpResponse]) -> None:
        self.get_response = get_response
        self.limit = settings.API_MAX_BODY_BYTES

    def __call__(self, request: HttpRequest) -> HttpResponse:
        content_type = request.content_type or ""
        if is_api_path(request.path_info) and not content_type.startswith("multipart/"):
            try:
                length = int(request.META.get("CONTENT_LENGTH") or 0)
            except ValueError:
                return error_response(
                    request,
                    status=400,
                    code="bad_request",
                    message=_("The Content-Length header is not a number."),
                )
            if length > self.limit:
                return error_response(
                    request,
                    status=413,
                    code="payload_too_large",
                    message=_("The request body is larger than %(limit)s bytes.")
                    % {"limit": self.limit},
                )
        return self.get_response(request)


class RateLimitMiddleware:
    """The default per-IP limit on every `/api/` request (routes add their own on top)."""

    def __init__(self, get_response: Callable[[HttpRequest], HttpResponse]) -> None:
        self.get_response = get_response
        self.rate = settings.RATE_LIMIT_DEFAULT
        self.exempt = tuple(settings.RATE_LIMIT_EXEMPT_PATHS)

    def __call__(self, request: HttpRequest) -> HttpResponse:
        path = request.path_info
        if settings.RATE_LIMIT_ENABLED and is_api_path(path) and not path.startswith(self.exempt):
            decision = ratelimit.hit(self.rate, "api", f"ip:{client_ip(request)}")
            if not decision.allowed:
                response = error_response(
                    request,
                    status=429,
                    code="rate_limited",
                    message=_("Too many requests. Try again later."),
                )
                response["Retry-After"] = str(decision.retry_after)
                return response
        return self.get_response(request)


class SecurityHeadersMiddleware:
    """A Content-Security-Policy on the HTML pages (admin, API docs); the rest is Django's."""

    def __init__(self, get_response: Callable[[HttpRequest], HttpResponse]) -> None:
        self.get_response = get_response
        self.policy = settings.CONTENT_SECURITY_POLICY
        self.prefixes = tuple(settings.CSP_PATH_PREFIXES)

    def __call__(self, request: HttpRequest) -> HttpResponse:
        response = self.get_response(request)
        if request.path_info.startswith(self.prefixes):
            response.setdefault("Content-Security-Policy", self.policy)
        return response


class _BrowserOnly:
    """Mixin: skip this middleware on API paths. The API uses bearer tokens, not cookies,
    so sessions, CSRF, messages and the session user cost time there and add nothing."""

    get_response: Any

    def __call__(self, request: HttpRequest) -> Any:
        if is_api_path(request.path_info):
            return self.get_response(request)
        return super().__call__(request)  # type: ignore[misc]

    def process_view(self, request: HttpRequest, *args: Any, **kwargs: Any) -> Any:
        if is_api_path(request.path_info):
            return None
        parent = getattr(super(), "process_view", None)
        return parent(request, *args, **kwargs) if parent else None


class BrowserSessionMiddleware(_BrowserOnly, SessionMiddleware):
    pass


class BrowserCommonMiddleware(_BrowserOnly, CommonMiddleware):
    pass


class BrowserCsrfViewMiddleware(_BrowserOnly, CsrfViewMiddleware):
    pass


class BrowserAuthenticationMiddleware(_BrowserOnly, AuthenticationMiddleware):
    pass


class BrowserMessageMiddleware(_BrowserOnly, MessageMiddleware):
    pass


class BrowserXFrameOptionsMiddleware(_BrowserOnly, XFrameOptionsMiddleware):
    pass
