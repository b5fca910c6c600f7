"""/api/website-data/ and /api/update-redis/ (ADMSC).

The reads serve the cached bytes as they are, wrapped in the envelope by concatenation:
no schema validation on the hot path (DESIGN.md). `response=` still documents them.
"""

from __future__ import annotations

from datetime import UTC, datetime

from django.conf import settings
from django.http import HttpRequest, HttpResponse
from django.utils.translation import gettext as _

from tessera.content import services
from tessera.content.auth import staff_session_auth
from tessera.content.errors import CacheUnavailableError
from tessera.content.schemas import UpdateRedisOut, WebsiteDataOut, WebsiteSectionOut
from tessera.content.selectors import BOTH, LANGUAGES, SECTIONS
from tessera.core.api import ApiRouter
from tessera.core.auth import bearer_auth, require_staff
from tessera.core.errors import InvalidInputError
from tessera.core.outages import CACHE_CONNECTION_ERRORS
from tessera.core.ratelimit import RateLimit

router = ApiRouter()

_LANG_DOC = "`en` or `ar`: one language, English where a translation is empty. Without it, "
_LANG_DOC += "`Accept-Language` picks one; with neither, both languages are returned."


def _use_one_of(values: tuple[str, ...] | list[str]) -> str:
    return _("Use one of: %(values)s") % {"values": ", ".join(values)}


def _variant(request: HttpRequest, lang: str | None) -> str:
    if lang is not None:
        if lang not in LANGUAGES:
            raise InvalidInputError(_("Unknown language."), fields={"lang": _use_one_of(LANGUAGES)})
        return lang
    if "HTTP_ACCEPT_LANGUAGE" in request.META:
        language = getattr(request, "LANGUAGE_CODE", "en")
        return language if language in LANGUAGES else "en"
    return BOTH


def _unknown_section(param: str) -> InvalidInputError:
    return InvalidInputError(_("Unknown section."), fields={param: _use_one_of(SECTIONS)})


def _reply(request: HttpRequest, etag: str, built_at: float, data: bytes) -> HttpResponse:
    reply = services.document_reply(
        etag=etag,
        built_at=built_at,
        data=data,
        if_none_match=request.META.get("HTTP_IF_NONE_MATCH"),
    )
    response = HttpResponse(reply.body, status=reply.status)
    if reply.status == 304:  # Not Modified carries no body, so no type
        del response["Content-Type"]
    for name, value in reply.headers:
        response[name] = value
    response.tessera_envelope = True  # type: ignore[attr-defined]
    return response


@router.get(
    "/website-data/",
    response={200: WebsiteDataOut, 304: None},
    summary="The website's content: menu, heroes, partners, footer, SEO, home page",
    description=(
        "Served from a cache rebuilt on every change. Send `If-None-Match` with the last "
        "`ETag` to get a 304. `lang`: " + _LANG_DOC + " `sections`: a comma-separated subset "
        "of " + ", ".join(SECTIONS) + "."
    ),
)
def website_data(
    request: HttpRequest, lang: str | None = None, sections: str | None = None
) -> HttpResponse:
    variant = _variant(request, lang)
    if sections is None:
        key = services.doc_key(variant)
        etag, built_at, body = services.cached_entries([key])[key]
        return _reply(request, etag, built_at, body)
    names = list(dict.fromkeys(s.strip() for s in sections.split(",")))
    if not names or any(name not in SECTIONS for name in names):
        raise _unknown_section("sections")
    keys = [services.section_key(name, variant) for name in names]
    entries = services.cached_entries(keys)
    parts = [entries[k] for k in keys]
    body = (
        b"{"
        + b",".join(b'"' + n.encode() + b'":' + p[2] for n, p in zip(names, parts, strict=True))
        + b"}"
    )
    etag = services.combined_etag([p[0] for p in parts])
    return _reply(request, etag, max(p[1] for p in parts), body)


@router.get(
    "/website-data/{section}/",
    response={200: WebsiteSectionOut, 304: None},
    summary="One section of the website's content",
    description="`section`: one of " + ", ".join(SECTIONS) + ". `lang`: " + _LANG_DOC,
)
def website_section(request: HttpRequest, section: str, lang: str | None = None) -> HttpResponse:
    if section not in SECTIONS:
        raise _unknown_section("section")
    key = services.section_key(section, _variant(request, lang))
    etag, built_at, body = services.cached_entries([key])[key]
    return _reply(request, etag, built_at, body)


@router.post(
    "/update-redis/",
    response=UpdateRedisOut,
    auth=[bearer_auth, staff_session_auth],
    throttle=[RateLimit(settings.CONTENT_UPDATE_RATE, key="user")],
    summary="Rebuild the cached website document now (staff)",
)
def update_redis(request: HttpRequest) -> UpdateRedisOut:
    require_staff(request)
    try:
        result = services.document_rebuild()
    except CACHE_CONNECTION_ERRORS as exc:
        raise CacheUnavailableError from exc
    return UpdateRedisOut(
        version=result.version,
        size_bytes=result.size_bytes,
        sizes=result.sizes,
        built_at=datetime.fromtimestamp(result.built_at, tz=UTC).isoformat().replace("+00:00", "Z"),
    )
