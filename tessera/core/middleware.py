"""Middleware. API requests take their own short chain; HTML pages take Django's.

`ApiRoutingMiddleware` stands first in `MIDDLEWARE`. Under `API_PREFIX` (and under
`WEBHOOK_PREFIX`: a gateway's signed delivery, docs/decisions/0039) it hands the request
to the chain built from `API_MIDDLEWARE` — request id, security headers, language, body
limit, the default rate limit, CORS, the access log — and skips the session, CSRF, auth,
messages, common and clickjacking middleware that only the admin and other HTML pages use
(the API authenticates with bearer tokens). See docs/decisions/0003-lean-api-middleware.md.

It also answers `HEAD` on every route as `GET` without the body, and the API chain sends
the other form of a path (a trailing slash added or dropped) to the route's one form
(docs/decisions/0024-trailing-slashes.md).
"""

from __future__ import annotations

import random
import re
import time
from collections.abc import Callable
from typing import Any, cast

import structlog
from corsheaders.middleware import CorsMiddleware
from django.conf import settings
from django.core.exceptions import DisallowedHost
from django.core.handlers.base import BaseHandler
from django.core.handlers.exception import convert_exception_to_response
from django.http import (
    HttpRequest,
    HttpResponse,
    HttpResponsePermanentRedirect,
    StreamingHttpResponse,
)
from django.http.response import HttpResponseRedirectBase
from django.middleware.locale import LocaleMiddleware as DjangoLocaleMiddleware
from django.urls import Resolver404, ResolverMatch, get_resolver
from django.utils import translation
from django.utils.encoding import escape_uri_path, iri_to_uri
from django.utils.module_loading import import_string
from django.utils.translation import gettext as _

from tessera.core import links, ratelimit, redaction
from tessera.core.api.handlers import error_for_status, on_suspicious, render_error
from tessera.core.client_ip import client_ip
from tessera.core.errors import (
    ApplicationError,
    InternalError,
    PayloadTooLargeError,
    RateLimitedError,
)
from tessera.core.logging import AccessLog
from tessera.core.metrics import observe_request
from tessera.core.outages import outage_report

GetResponse = Callable[[HttpRequest], HttpResponse]
logger = structlog.get_logger("tessera.api")

_SUPPORTED_LANGUAGES = frozenset(code for code, _name in settings.LANGUAGES)
REQUEST_ID_PATTERN = re.compile(r"^[A-Za-z0-9._:-]{1,128}$")
API_PREFIX: str = settings.API_PREFIX
# Paths that take the API's short chain: the API, and gateways' webhook deliveries.
LEAN_PATH_PREFIXES: tuple[str, ...] = tuple(settings.LEAN_PATH_PREFIXES)


def is_api_path(path: str) -> bool:
    return path.startswith(API_PREFIX)


def negotiate_language(request: Any, requested: str | None, *, default: str) -> str:
    """An API request's language: `?lang=` when supported, else `Accept-Language` (and the
    language cookie, as Django reads them), else `default`. `request` needs only `META` and
    `COOKIES` (the edge passes a stand-in)."""
    if requested in _SUPPORTED_LANGUAGES:
        return str(requested)
    if "HTTP_ACCEPT_LANGUAGE" in request.META:
        return translation.get_language_from_request(request)
    return default


def hsts_header() -> str:
    """The Strict-Transport-Security value the settings ask for ("" when off)."""
    if not settings.SECURE_HSTS_SECONDS:
        return ""
    return (
        f"max-age={settings.SECURE_HSTS_SECONDS}"
        + ("; includeSubDomains" if settings.SECURE_HSTS_INCLUDE_SUBDOMAINS else "")
        + ("; preload" if settings.SECURE_HSTS_PRELOAD else "")
    )


def new_request_id() -> str:
    # Unique, not secret: 128 random bits from the process's generator, no system call.
    return f"{random.getrandbits(128):032x}"


def _request_id(request: HttpRequest) -> str:
    incoming = request.META.get("HTTP_X_REQUEST_ID", "")
    request_id = incoming if REQUEST_ID_PATTERN.match(incoming) else new_request_id()
    request.request_id = request_id  # type: ignore[attr-defined]
    structlog.contextvars.clear_contextvars()
    structlog.contextvars.bind_contextvars(request_id=request_id)
    return request_id


def _log_request(
    access_log: AccessLog, request: HttpRequest, response: HttpResponse, elapsed: float
) -> None:
    # The method as sent: a HEAD is dispatched as a GET (ApiRoutingMiddleware).
    observe_request(request.META.get("REQUEST_METHOD") or "", response.status_code, elapsed)
    if not access_log.enabled:
        return
    auth = getattr(request, "auth", None)
    match = getattr(request, "resolver_match", None)
    user_id = getattr(auth, "pk", None)
    access_log.write(
        request_id=request.request_id,  # type: ignore[attr-defined]
        method=request.META.get("REQUEST_METHOD", request.method),
        path=redaction.redact_path(request.path_info),  # no signed link's token
        route=match.route if match is not None else None,
        status=response.status_code,
        duration_ms=round(elapsed * 1000, 2),
        user_id=str(user_id) if user_id is not None else None,
        ip=client_ip(request),
    )


class ApiRoutingMiddleware:
    """Send API requests and webhook deliveries (`LEAN_PATH_PREFIXES`) through
    `API_MIDDLEWARE`, everything else through the rest of `MIDDLEWARE`; answer `HEAD` as
    `GET` without the body, on every route."""

    def __init__(self, get_response: GetResponse) -> None:
        self.get_response = get_response
        self.api_chain = build_api_chain()

    def __call__(self, request: HttpRequest) -> HttpResponse:
        # HEAD is GET without the body (RFC 9110 9.3.2): every layer below, views included,
        # sees a GET (the access log and metrics read the method sent from META), and the
        # reply loses its body here, keeping its status and every header.
        head = request.method == "HEAD"
        if head:
            request.method = "GET"
        if request.path_info.startswith(LEAN_PATH_PREFIXES):
            response = self.api_chain(request)
        else:
            response = self.get_response(request)
        return without_body(response) if head else response


def without_body(response: HttpResponse) -> HttpResponse:
    """`response` as the reply to a HEAD: the same status and headers, with the
    Content-Length of the body it would have had (or none, for a stream of unknown length),
    and no body."""
    if response.streaming:
        # The stream's own close (a file's) stays registered and runs when the server closes
        # the response.
        cast(StreamingHttpResponse, response).streaming_content = iter(())
    else:
        if not response.has_header("Content-Length"):
            response["Content-Length"] = str(len(response.content))
        length = response["Content-Length"]
        response.content = b""
        response["Content-Length"] = length
    return response


class HttpResponsePermanentRedirectKeepingMethod(HttpResponseRedirectBase):
    status_code = 308


def _other_form(path: str) -> str:
    return path[:-1] if path.endswith("/") else path + "/"


# Paths without parameters whose match is remembered, at most (there are ~120 routes).
_STATIC_MATCHES_MAX = 512


class _ApiDispatcher(BaseHandler):
    """Django's view dispatch, with the API's one rule for trailing slashes: a path that
    matches no route but would with its trailing slash added or dropped is that route —
    redirected there for GET and HEAD (308, the query kept), answered there for any other
    method (a client that follows a redirect may drop a body). See
    docs/decisions/0024-trailing-slashes.md. Only a miss pays for the second lookup."""

    def resolve_request(self, request: HttpRequest) -> ResolverMatch:
        if hasattr(request, "urlconf"):  # a request's own URLconf: as Django does it
            try:
                return cast(ResolverMatch, super().resolve_request(request))
            except Resolver404:
                if (match := self._other_form_resolved(request)) is None:
                    raise
                return match
        # Django tries the API's ~120 patterns in turn on every request (60-120 µs, as much
        # as the rest of a kept reply's dispatch). A path that matched a route without
        # parameters always resolves to the same match under the same URLconf, so that
        # match is remembered, per resolver (a changed URLconf is a new resolver). Matches
        # are shared read-only: Django calls the view with copies of their args and kwargs.
        # The other form of a path (its redirect carries the query) is never remembered.
        resolver = get_resolver()
        static: dict[str, ResolverMatch] = resolver.__dict__.setdefault(
            "tessera_static_matches", {}
        )
        path = request.path_info
        match = static.get(path)
        if match is None:
            try:
                match = resolver.resolve(path)
            except Resolver404:
                if (match := self._other_form_resolved(request)) is None:
                    raise
                return match
            if not (match.args or match.kwargs) and len(static) < _STATIC_MATCHES_MAX:
                static[path] = match
        request.resolver_match = match
        return match

    def _other_form_resolved(self, request: HttpRequest) -> ResolverMatch | None:
        match = self._other_form_match(request)
        if match is not None:
            request.resolver_match = match
        return match

    @staticmethod
    def _other_form_match(request: HttpRequest) -> ResolverMatch | None:
        other = _other_form(request.path_info)
        if other == API_PREFIX:
            return None
        try:
            match = get_resolver(getattr(request, "urlconf", None)).resolve(other)
        except Resolver404:
            return None
        if request.method != "GET":
            request.path_info = other
            request.path = _other_form(request.path)
            return match
        query = request.META.get("QUERY_STRING", "")
        location = escape_uri_path(_other_form(request.path)) + (
            "?" + iri_to_uri(query) if query else ""
        )
        return ResolverMatch(
            lambda _request: HttpResponsePermanentRedirectKeepingMethod(location),
            (),
            {},
            route=match.route,
        )


def build_api_chain() -> GetResponse:
    """The API's middleware around Django's own view dispatch.

    `BaseHandler._get_response` resolves the URL and calls the view (with its exception
    handling); it is what Django wraps its own middleware around. The API chain declares no
    view, template-response or exception middleware hooks, so those lists are empty.
    """
    dispatcher = _ApiDispatcher()
    dispatcher._view_middleware = []  # type: ignore[attr-defined]
    dispatcher._template_response_middleware = []  # type: ignore[attr-defined]
    dispatcher._exception_middleware = []  # type: ignore[attr-defined]
    handler: Any = convert_exception_to_response(dispatcher._get_response)  # type: ignore[attr-defined]
    for path in reversed(settings.API_MIDDLEWARE):
        handler = convert_exception_to_response(import_string(path)(handler))
    return cast(GetResponse, handler)


class ApiMiddleware:
    """Everything every API request needs, in one layer (each layer costs a few µs)."""

    def __init__(self, get_response: GetResponse) -> None:
        self.get_response = get_response
        self.access_log = AccessLog()
        self.body_limit = settings.API_MAX_BODY_BYTES
        self.rate = settings.RATE_LIMIT_DEFAULT
        self.rate_exempt = tuple(settings.RATE_LIMIT_EXEMPT_PATHS)
        self.ssl_redirect = settings.SECURE_SSL_REDIRECT
        self.hsts = hsts_header()
        self.referrer_policy = settings.SECURE_REFERRER_POLICY
        self.opener_policy = settings.SECURE_CROSS_ORIGIN_OPENER_POLICY
        self.csp_prefixes = tuple(settings.CSP_PATH_PREFIXES)
        self.default_language = settings.LANGUAGE_CODE
        if ratelimit.request_limits_enabled():
            # Build the limiter (and import its storage client) now, in one thread: done
            # lazily, the first concurrent requests race on a half-imported module.
            ratelimit.limiter()

    def __call__(self, request: HttpRequest) -> HttpResponse:
        started = time.perf_counter()
        request_id = _request_id(request)
        bound = links.request_bind(request)
        try:
            response = self._refusal(request) or self.get_response(request)
        except ApplicationError as error:
            response = render_error(request, error)
        finally:
            links.request_unbind(bound)
        if not getattr(response, "tessera_envelope", False):
            response = _envelope_bare_response(request, response)
        response["X-Request-ID"] = request_id
        response["X-Content-Type-Options"] = "nosniff"
        response["Referrer-Policy"] = self.referrer_policy
        response["Cross-Origin-Opener-Policy"] = self.opener_policy
        response["Content-Language"] = translation.get_language()
        response["Vary"] = "Accept-Language, Origin"
        if request.path_info.startswith(self.csp_prefixes):  # the Swagger UI page
            response["Content-Security-Policy"] = settings.CONTENT_SECURITY_POLICY
        if self.hsts and request.is_secure():
            response["Strict-Transport-Security"] = self.hsts
        if not response.streaming and not response.has_header("Content-Length"):
            response["Content-Length"] = str(len(response.content))
        _log_request(self.access_log, request, response, time.perf_counter() - started)
        return response

    def _refusal(self, request: HttpRequest) -> HttpResponse | None:
        """Answer without running the view: a Host outside ALLOWED_HOSTS (Django's
        CommonMiddleware checks it on every page; the API chain has none), HTTPS redirect;
        or raise the error of a body too large or a client over the rate limit."""
        try:
            request.get_host()
        except DisallowedHost as exc:
            return on_suspicious(request, exc)
        if self.ssl_redirect and not request.is_secure():
            return HttpResponsePermanentRedirect(
                f"https://{request.get_host()}{request.get_full_path()}"
            )
        self._activate_language(request)
        self._check_body_size(request)
        self._check_rate_limit(request)
        return None

    def _activate_language(self, request: HttpRequest) -> None:
        requested = (
            request.GET.get("lang", "") if "lang=" in request.META.get("QUERY_STRING", "") else None
        )
        language = negotiate_language(request, requested, default=self.default_language)
        translation.activate(language)
        request.LANGUAGE_CODE = language

    def _check_body_size(self, request: HttpRequest) -> None:
        # Multipart bodies (file uploads) are streamed and limited per purpose by tessera.files.
        if (request.META.get("CONTENT_TYPE") or "").startswith("multipart/"):
            return
        try:
            length = int(request.META.get("CONTENT_LENGTH") or 0)
        except ValueError:
            raise ApplicationError(_("The Content-Length header is not a number.")) from None
        if length > self.body_limit:
            raise PayloadTooLargeError(
                _("The request body is larger than %(limit)s bytes.") % {"limit": self.body_limit}
            )

    def _check_rate_limit(self, request: HttpRequest) -> None:
        if not ratelimit.request_limits_enabled() or request.path_info.startswith(self.rate_exempt):
            return
        try:
            decision = ratelimit.default_limiter().hit(self.rate, "api", f"ip:{client_ip(request)}")
        except Exception as exc:  # noqa: BLE001 - any storage failure
            # The counters live in the cache; when it is down the default limit lets requests
            # through (logged) rather than failing every API route. Per-route limits on
            # sign-in and money fail closed instead (ratelimit.RateLimit).
            outage_report(
                "rate-limit storage", exc, event="rate_limit_storage_unavailable", level="warning"
            )
            return
        if not decision.allowed:
            raise RateLimitedError(retry_after=decision.retry_after)


class ApiCorsMiddleware(CorsMiddleware):
    """django-cors-headers, only when the request carries an `Origin` (a browser's
    cross-origin call); `ApiMiddleware` sets `Vary: Origin` on every API reply."""

    def __call__(self, request: HttpRequest) -> Any:
        if "HTTP_ORIGIN" not in request.META:
            return self.get_response(request)
        return super().__call__(request)


class RequestContextMiddleware:
    """For HTML pages: accept or generate `X-Request-ID`, bind it to logs, log once."""

    def __init__(self, get_response: GetResponse) -> None:
        self.get_response = get_response
        self.access_log = AccessLog()

    def __call__(self, request: HttpRequest) -> HttpResponse:
        started = time.perf_counter()
        request_id = _request_id(request)
        bound = links.request_bind(request)
        try:
            response = self.get_response(request)
        finally:
            links.request_unbind(bound)
        response["X-Request-ID"] = request_id
        _log_request(self.access_log, request, response, time.perf_counter() - started)
        return response


def _envelope_bare_response(request: HttpRequest, response: HttpResponse) -> HttpResponse:
    """Django itself answers some API requests (unknown path, wrong method): envelope them."""
    status = response.status_code
    if status < 400 or response.get("Content-Type", "").startswith("application/json"):
        return response
    messages = {
        404: _("No API route matches this path."),
        405: _("This method is not allowed on this path."),
        413: _("The request body is too large."),
    }
    error = InternalError() if status >= 500 else error_for_status(status, messages.get(status))
    wrapped = render_error(request, error)
    # Keep what the inner middleware added (Allow, security headers, Vary, CORS).
    for header, value in response.items():
        if header.lower() not in {"content-type", "content-length"}:
            wrapped[header] = value
    allowed = wrapped.get("Allow")
    if allowed and "GET" in allowed.split(", ") and "HEAD" not in allowed:
        wrapped["Allow"] = f"{allowed}, HEAD"  # a HEAD is answered wherever a GET is
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
