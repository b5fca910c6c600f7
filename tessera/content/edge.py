"""/api/website-data/ at the edge (tessera/core/edge.py): the cached document or one section,
answered from the cache before Django's request cycle. Anything else — a cold cache, an
unknown language or section, `?sections=`, another parameter — returns None and the API
view in api.py answers, with the same reply (tests compare them)."""

from __future__ import annotations

from tessera.content import services
from tessera.content.selectors import BOTH, LANGUAGES, SECTIONS
from tessera.core.edge import EdgeReply, EdgeRequest

PREFIX = "/api/website-data/"
DOCUMENT_ROUTE = "api/website-data/"
SECTION_ROUTE = "api/website-data/<section>/"


def website_data(request: EdgeRequest) -> EdgeReply | None:
    if request.query and (len(request.query) > 1 or "lang" not in request.query):
        return None
    lang = request.query.get("lang")
    if lang is not None and lang not in LANGUAGES:
        return None
    variant = lang or (request.language if request.language_requested else BOTH)
    if variant not in (BOTH, *LANGUAGES):
        variant = "en"  # what api.py does for a negotiated language it does not serve
    rest = request.path[len(PREFIX) :]
    if not rest:
        key, route = services.doc_key(variant), DOCUMENT_ROUTE
    elif rest.endswith("/") and rest[:-1] in SECTIONS:
        key, route = services.section_key(rest[:-1], variant), SECTION_ROUTE
    else:
        return None
    entry = services.cached_entry_if_warm(key)
    if entry is None:
        return None
    etag, built_at, data = entry
    reply = services.document_reply(
        etag=etag, built_at=built_at, data=data, if_none_match=request.header("If-None-Match")
    )
    return EdgeReply(status=reply.status, body=reply.body, headers=reply.headers, route=route)
