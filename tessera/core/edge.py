"""The edge: a few public, unauthenticated GET routes whose replies sit ready in the cache,
answered at the WSGI layer before Django's request cycle
(docs/decisions/0012-edge-for-cached-documents.md).

Django answers `/api/ping` in about 140 µs of CPU; a reply that is one cache read away costs
a fraction of that without the request object, the request signals, URL resolution and
Ninja. An app registers a handler for a path prefix in `EDGE_ROUTES`; the handler gets an
`EdgeRequest` and returns an `EdgeReply`, or None to let Django answer (a cold cache, a
query parameter it does not know, anything that would be an error). The edge then adds what
`ApiMiddleware` adds to every API reply — request id, security headers, `Content-Language`,
`Vary`, the default per-IP rate limit, the access log and the request metrics — so a client
cannot tell which path answered (tests/test_edge_parity.py compares the two for every route).

Nothing that needs credentials is answered here: signed-in reads go through Django, where
Ninja's authentication is the one place a token is checked (docs/decisions/0032).

A HEAD is answered as the GET, without the body (as `ApiRoutingMiddleware` does in Django).
Requests the edge leaves to Django whole: any other method, a browser's cross-origin call
(`Origin`: CORS is django-cors-headers' job), one that must be redirected to HTTPS, one that
carries the language cookie, one over the rate limit (Django answers the 429).
"""

from __future__ import annotations

import time
from collections.abc import Callable, Iterable
from dataclasses import dataclass, field
from http import HTTPStatus
from typing import Any
from urllib.parse import parse_qsl

import structlog
from django.conf import settings
from django.http.request import split_domain_port, validate_host
from django.utils.module_loading import import_string

from tessera.core import ratelimit
from tessera.core.client_ip import client_ip_from_meta
from tessera.core.logging import AccessLog
from tessera.core.metrics import observe_request
from tessera.core.middleware import (
    REQUEST_ID_PATTERN,
    hsts_header,
    negotiate_language,
    new_request_id,
)
from tessera.core.outages import outage_report

logger = structlog.get_logger("tessera.api")

WSGIApp = Callable[[dict[str, Any], Callable[..., Any]], Iterable[bytes]]
_STATUS_LINES = {status.value: f"{status.value} {status.phrase}" for status in HTTPStatus}
_METHODS = frozenset({"GET", "HEAD"})


@dataclass(slots=True)
class EdgeRequest:
    path: str
    query: dict[str, str]
    # The language `ApiMiddleware` would activate, and whether the client asked for one
    # (`?lang=` or `Accept-Language`).
    language: str
    language_requested: bool
    host: str  # as `HttpRequest.get_host()` gives it, already checked against ALLOWED_HOSTS
    environ: dict[str, Any]

    def header(self, name: str) -> str | None:
        value = self.environ.get("HTTP_" + name.upper().replace("-", "_"))
        return str(value) if value is not None else None


@dataclass(slots=True)
class EdgeReply:
    status: int
    body: bytes
    headers: list[tuple[str, str]] = field(default_factory=list)
    route: str = ""


@dataclass(slots=True)
class _Answered:
    reply: EdgeReply
    request_id: str
    language: str
    client_ip: str


EdgeHandler = Callable[[EdgeRequest], EdgeReply | None]


class _LanguageProbe:
    """The two attributes `translation.get_language_from_request` reads, from the environ."""

    __slots__ = ("COOKIES", "META", "path_info")

    def __init__(self, environ: dict[str, Any]) -> None:
        self.META = environ
        self.COOKIES: dict[str, str] = {}
        self.path_info = environ.get("PATH_INFO", "")


class EdgeApp:
    """WSGI middleware in front of Django's handler (config/wsgi.py)."""

    def __init__(self, app: WSGIApp, routes: dict[str, str] | None = None) -> None:
        self.app = app
        self.routes: list[tuple[str, EdgeHandler]] = [
            (prefix, import_string(path))
            for prefix, path in (settings.EDGE_ROUTES if routes is None else routes).items()
        ]
        self.prefixes = tuple(prefix for prefix, _handler in self.routes)
        self.access_log = AccessLog()
        self.rate = settings.RATE_LIMIT_DEFAULT
        self.languages = frozenset(code for code, _name in settings.LANGUAGES)
        self.cookie = settings.LANGUAGE_COOKIE_NAME
        self.hsts = hsts_header()
        # Read once: every `settings.X` costs a LazyObject lookup, and this runs per request.
        self.allowed_hosts = list(settings.ALLOWED_HOSTS)
        if settings.DEBUG and not self.allowed_hosts:
            self.allowed_hosts = [".localhost", "127.0.0.1", "[::1]"]
        self.use_forwarded_host = settings.USE_X_FORWARDED_HOST
        self.proxy_ssl_header = settings.SECURE_PROXY_SSL_HEADER
        self.ssl_redirect = settings.SECURE_SSL_REDIRECT
        self.rate_limited = ratelimit.request_limits_enabled()
        self.default_language = settings.LANGUAGE_CODE
        self._checked_hosts: dict[str, bool] = {}
        # (`?lang=`, Accept-Language) -> what `_language` answers: negotiation parses the
        # header and asks the translation machinery; the same few headers come back and back.
        self._negotiated: dict[tuple[str | None, str | None], tuple[str, bool]] = {}
        self.fixed_headers = [
            ("X-Content-Type-Options", "nosniff"),
            ("Referrer-Policy", str(settings.SECURE_REFERRER_POLICY)),
            ("Cross-Origin-Opener-Policy", str(settings.SECURE_CROSS_ORIGIN_OPENER_POLICY)),
        ]

    def __call__(self, environ: dict[str, Any], start_response: Callable[..., Any]) -> Any:
        path = environ.get("PATH_INFO", "")
        if self.prefixes and path.startswith(self.prefixes):
            started = time.perf_counter()
            try:
                answered = self._answer(environ, path)
            except Exception:  # the edge is an optimisation: Django answers instead
                logger.exception("edge_failed", path=path)
                answered = None
            if answered is not None:
                return self._send(environ, start_response, answered, started)
        return self.app(environ, start_response)

    def _answer(self, environ: dict[str, Any], path: str) -> _Answered | None:
        if environ.get("REQUEST_METHOD") not in _METHODS or "HTTP_ORIGIN" in environ:
            return None
        if self.cookie in environ.get("HTTP_COOKIE", ""):
            return None
        secure = self._is_secure(environ)
        host = self._allowed_host(environ, secure)
        if host is None:
            return None  # Django answers the 400
        if self.ssl_redirect and not secure:
            return None
        incoming = environ.get("HTTP_X_REQUEST_ID", "")
        request_id = (
            incoming if incoming and REQUEST_ID_PATTERN.match(incoming) else new_request_id()
        )
        structlog.contextvars.clear_contextvars()
        structlog.contextvars.bind_contextvars(request_id=request_id)
        handler = self._handler_for(path)
        raw_query = environ.get("QUERY_STRING", "")
        query = dict(parse_qsl(raw_query, keep_blank_values=True)) if raw_query else {}
        language, requested = self._language(environ, query)
        reply = handler(
            EdgeRequest(
                path=path,
                query=query,
                language=language,
                language_requested=requested,
                host=host,
                environ=environ,
            )
        )
        if reply is None:
            return None
        address = client_ip_from_meta(environ)
        if not self._within_rate_limit(address):
            return None
        if self.hsts and secure:
            reply.headers.append(("Strict-Transport-Security", self.hsts))
        return _Answered(reply, request_id, language, address)

    def _handler_for(self, path: str) -> EdgeHandler:
        for prefix, handler in self.routes:
            if path.startswith(prefix):
                return handler
        raise LookupError(path)  # unreachable: __call__ checked the prefixes

    def _language(self, environ: dict[str, Any], query: dict[str, str]) -> tuple[str, bool]:
        """What `ApiMiddleware` activates, and whether the client asked for a language."""
        requested = query.get("lang")
        header = environ.get("HTTP_ACCEPT_LANGUAGE")
        known = self._negotiated.get((requested, header))
        if known is not None:
            return known
        probe: Any = _LanguageProbe(environ)
        language = negotiate_language(probe, requested, default=self.default_language)
        asked = requested in self.languages or header is not None
        answer = (language, asked or requested is not None)
        if len(self._negotiated) < 256:  # both are client input: remember the common ones
            self._negotiated[(requested, header)] = answer
        return answer

    def _is_secure(self, environ: dict[str, Any]) -> bool:
        if self.proxy_ssl_header:
            header, secure_value = self.proxy_ssl_header
            value = environ.get(header)
            if value:
                return bool(value.split(",", 1)[0].strip() == secure_value)
        return bool(environ.get("wsgi.url_scheme") == "https")

    def _allowed_host(self, environ: dict[str, Any], secure: bool) -> str | None:  # noqa: FBT001
        """What `HttpRequest.get_host()` returns, or None where it would raise
        DisallowedHost."""
        if self.use_forwarded_host and "HTTP_X_FORWARDED_HOST" in environ:
            host = str(environ["HTTP_X_FORWARDED_HOST"])
        elif "HTTP_HOST" in environ:
            host = str(environ["HTTP_HOST"])
        else:
            host = str(environ.get("SERVER_NAME", ""))
            port = str(environ.get("SERVER_PORT", ""))
            if port != ("443" if secure else "80"):
                host = f"{host}:{port}"
        allowed = self._checked_hosts.get(host)
        if allowed is None:
            domain, _port = split_domain_port(host)
            allowed = bool(domain and validate_host(domain, self.allowed_hosts))
            if len(self._checked_hosts) < 64:
                self._checked_hosts[host] = allowed
        return host if allowed else None

    def _within_rate_limit(self, address: str) -> bool:
        if not self.rate_limited:
            return True
        try:
            return ratelimit.default_limiter().hit(self.rate, "api", "ip:" + address).allowed
        except Exception as exc:  # noqa: BLE001 - storage down: the default limit fails open
            outage_report(
                "rate-limit storage", exc, event="rate_limit_storage_unavailable", level="warning"
            )
            return True

    def _send(
        self,
        environ: dict[str, Any],
        start_response: Callable[..., Any],
        answered: _Answered,
        started: float,
    ) -> list[bytes]:
        reply, request_id = answered.reply, answered.request_id
        headers = [
            *reply.headers,
            ("X-Request-ID", request_id),
            *self.fixed_headers,
            ("Content-Language", answered.language),
            ("Vary", "Accept-Language, Origin"),
            ("Content-Length", str(len(reply.body))),
        ]
        start_response(_STATUS_LINES.get(reply.status, str(reply.status)), headers)
        elapsed = time.perf_counter() - started
        method = environ["REQUEST_METHOD"]
        body = reply.body if method == "GET" else b""
        observe_request(method, reply.status, elapsed)
        if not self.access_log.enabled:  # skip building the line's fields too
            return [body]
        self.access_log.write(
            request_id=request_id,
            method=method,
            path=environ.get("PATH_INFO", ""),
            route=reply.route or None,
            status=reply.status,
            duration_ms=round(elapsed * 1000, 2),
            user_id=None,  # the edge answers no one signed in
            ip=answered.client_ip,
        )
        return [body]


def wrap(app: WSGIApp) -> WSGIApp:
    """`app` behind the edge when it is enabled (`EDGE_ENABLED`: a Redis cache), else as is."""
    if not settings.EDGE_ENABLED or not settings.EDGE_ROUTES:
        return app
    return EdgeApp(app)
