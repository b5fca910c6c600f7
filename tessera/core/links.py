"""Absolute links to this site's pages, for the emails and text messages it sends.

`site_url("/verify-email/", {"email": …, "code": …})` puts the path on a base chosen, in order:

1. `AUTH_FRONTEND_URL` when set: the web app that owns these pages (production);
2. `TESSERA_SERVER_URL`: the base `make run` listens on, exported to the web server, the
   worker and the scheduler it starts (`PORT=9000 make run` links to port 9000);
3. the request being served, when there is one (its scheme and its Host, which Django has
   checked against `ALLOWED_HOSTS`): a server started some other way links to itself;
4. `http://127.0.0.1:8000`, `make run`'s default.

The request is the one `ApiMiddleware` or `RequestContextMiddleware` is serving in this
thread (`current_request`), so a service several calls deep links to the right server
without every function on the way passing the request down. Emails sent outside a request
(the unlock sweep's invitations, sent by the worker) need 1 or 2; `check --deploy` warns when
production has neither.
"""

from __future__ import annotations

from collections.abc import Iterator, Mapping
from contextlib import contextmanager
from contextvars import ContextVar, Token
from typing import Any
from urllib.parse import urlencode

from django.conf import settings
from django.core.checks import Warning as CheckWarning
from django.core.checks import register
from django.http import HttpRequest

DEFAULT_BASE_URL = "http://127.0.0.1:8000"

_current_request: ContextVar[HttpRequest | None] = ContextVar(
    "tessera_current_request", default=None
)


def request_bind(request: HttpRequest) -> Token[HttpRequest | None]:
    """Make `request` the one links are built from, until `request_unbind(token)`."""
    return _current_request.set(request)


def request_unbind(token: Token[HttpRequest | None]) -> None:
    _current_request.reset(token)


@contextmanager
def current_request(request: HttpRequest) -> Iterator[None]:
    """Make `request` the one links are built from while the block runs."""
    token = _current_request.set(request)
    try:
        yield
    finally:
        _current_request.reset(token)


def site_base_url() -> str:
    """The scheme, host and port links start with (no trailing slash)."""
    if settings.AUTH_FRONTEND_URL:
        return str(settings.AUTH_FRONTEND_URL).rstrip("/")
    if settings.TESSERA_SERVER_URL:
        return str(settings.TESSERA_SERVER_URL).rstrip("/")
    request = _current_request.get()
    if request is not None:
        return f"{request.scheme}://{request.get_host()}"
    return DEFAULT_BASE_URL


def site_url(
    path: str, query: Mapping[str, str | None] | None = None, *, base: str | None = None
) -> str:
    """An absolute link to `path` (starting with "/") with `query` (None values dropped).
    `base` is a `site_base_url()` taken earlier, for work a request hands to a worker."""
    link = (base.rstrip("/") if base else site_base_url()) + path
    params = {k: v for k, v in (query or {}).items() if v is not None and v != ""}
    return f"{link}?{urlencode(params)}" if params else link


@register(deploy=True)
def check_link_base(**_kwargs: Any) -> list[CheckWarning]:
    if settings.AUTH_FRONTEND_URL or settings.TESSERA_SERVER_URL:
        return []
    return [
        CheckWarning(
            "AUTH_FRONTEND_URL is not set.",
            hint=(
                "Links in emails sent during a request use that request's host; emails sent "
                f"by the worker (capsule invitations) link to {DEFAULT_BASE_URL}. Set "
                "AUTH_FRONTEND_URL to the public address of the site."
            ),
            id="tessera.W001",
        )
    ]
