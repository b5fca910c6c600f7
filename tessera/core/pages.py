"""The few server-rendered pages links in emails open (verify an email address, reset a
password, a capsule invitation), until a web app takes them over: plain Django templates on
`core/page.html`, English or Arabic (`?lang=`, else `Accept-Language`), no JavaScript.

Their forms post to the page itself (CSRF-protected, as every HTML form here) and call the
same services the API does, under the same per-address limits (a budget of their own).
"""

from __future__ import annotations

from typing import Any

from django.conf import settings
from django.http import HttpRequest, HttpResponse
from django.shortcuts import render
from django.utils.translation import gettext as _

from tessera.core.ratelimit import RateLimit

# Self-contained pages: inline style only, forms to themselves, no scripts, no framing.
PAGE_POLICY = (
    "default-src 'none'; style-src 'unsafe-inline'; form-action 'self'; "
    "frame-ancestors 'none'; base-uri 'none'"
)


def page_render(
    request: HttpRequest, template: str, context: dict[str, Any], *, status: int = 200
) -> HttpResponse:
    """Render one of these pages: the language switch, and headers that keep the tokens in
    their links out of caches and Referer headers."""
    query = request.GET.copy()
    query.pop("lang", None)
    response = render(
        request,
        template,
        {
            "languages": settings.LANGUAGES,
            "query_without_lang": query.urlencode(),
            **context,
        },
        status=status,
    )
    response["Cache-Control"] = "no-store"
    response["Referrer-Policy"] = "no-referrer"
    response["Content-Security-Policy"] = PAGE_POLICY
    return response


def page_rate_limited(request: HttpRequest, *, rate: str, scope: str) -> str | None:
    """None when this address may post the form now; else the message saying it may not."""
    if RateLimit(rate, key="ip", scope=f"page:{scope}").allow_request(request):
        return None
    return _("Too many attempts from your address. Try again later.")
