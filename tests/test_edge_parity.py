"""Every route the edge answers (`settings.EDGE_ROUTES`, tessera/core/edge.py) replies as
Django does: the cases are generated from the setting, so a route added there without its
cases in `PARITY` below is a failing test, not a route nobody compared.

Each case is sent twice through the WSGI layer, as a server sends it: once to the edge in
front of Django's handler, once to Django's handler alone. Status, body (the envelope's
timestamp aside) and every header but the per-reply ones (`X-Request-ID`, `Date`) must be
the same — `ETag`, `Cache-Control`, `Last-Modified`, `Vary`, `Content-Language`,
`Content-Length` included — and each case says whether the edge must answer it itself (a
warm cache) or hand it to Django (errors, methods it does not serve).

Unmarked on purpose: they run in the SQLite lane (the in-process cache) and in the
PostgreSQL + Redis lane (`TEST_CACHE=redis`: the Redis cache, the near cache the edge reads
in production), docs/decisions/0015 and 0032.

The edge answers nothing that needs credentials (docs/decisions/0032): a test walks the API
schema and fails if an edge prefix covers a GET operation with a security requirement.
"""

from __future__ import annotations

from collections.abc import Callable, Iterable
from dataclasses import dataclass, field
from typing import Any

import orjson
import pytest
from django.conf import settings

from tessera.core.edge import EdgeApp
from tests.fixtures import CountingApp, wsgi_get

pytestmark = pytest.mark.django_db

# Headers that differ between any two replies, whoever answers. (Both requests carry the
# same `X-Request-ID`, so that header and the error envelope's `requestId` are compared.)
PER_REPLY = frozenset({"date"})
# What a cached document's reply carries and the edge must reproduce exactly.
DOCUMENT_HEADERS = frozenset({"etag", "cache-control", "vary", "content-language"})
# A stand-in for the ETag of the same document, read from Django's reply before the case.
CURRENT_ETAG = "<current etag>"
# Every route's cases must cover these kinds.
REQUIRED_KINDS = frozenset({"ok", "head", "not_modified", "not_found", "method", "language"})


@dataclass(frozen=True)
class Case:
    name: str
    kind: str  # one of REQUIRED_KINDS, or "other"
    path: str
    query: str = ""
    method: str = "GET"
    meta: dict[str, str] = field(default_factory=dict)
    status: int = 200
    at_edge: bool = True  # answered by the edge itself; else handed to Django


@dataclass(frozen=True)
class ParityRoute:
    prepare: Callable[[], None]  # make the route's cache warm, as production keeps it
    cases: tuple[Case, ...]


def _website_document() -> None:
    from django.db import connection

    from tessera.content import demo, services
    from tessera.content.signals import rebuild_after_commit

    demo.load()
    # As if committed: the rebuild runs now, not at a commit the test never makes.
    connection.run_on_commit = [
        entry for entry in connection.run_on_commit if entry[1] is not rebuild_after_commit
    ]
    services.document_rebuild()


_DOC = "/api/website-data/"

PARITY: dict[str, ParityRoute] = {
    _DOC: ParityRoute(
        prepare=_website_document,
        cases=(
            Case("document", "ok", _DOC),
            Case("document-en", "ok", _DOC, "lang=en"),
            Case("document-ar", "ok", _DOC, "lang=ar"),
            Case("accept-language-ar", "ok", _DOC, meta={"HTTP_ACCEPT_LANGUAGE": "ar-EG,ar;q=0.9"}),
            Case("accept-language-fr", "ok", _DOC, meta={"HTTP_ACCEPT_LANGUAGE": "fr-FR"}),
            Case("section", "ok", _DOC + "heroes/"),
            Case("section-ar", "ok", _DOC + "seo/", "lang=ar"),
            Case("head", "head", _DOC, "lang=en", method="HEAD"),
            Case("head-section", "head", _DOC + "footerLinks/", method="HEAD"),
            Case(
                "if-none-match",
                "not_modified",
                _DOC,
                "lang=en",
                meta={"HTTP_IF_NONE_MATCH": CURRENT_ETAG},
                status=304,
            ),
            Case(
                "if-none-match-section",
                "not_modified",
                _DOC + "heroes/",
                meta={"HTTP_IF_NONE_MATCH": CURRENT_ETAG},
                status=304,
            ),
            Case(
                "head-if-none-match",
                "not_modified",
                _DOC,
                method="HEAD",
                meta={"HTTP_IF_NONE_MATCH": CURRENT_ETAG},
                status=304,
            ),
            Case(
                "stale-etag",
                "ok",
                _DOC,
                "lang=ar",
                meta={"HTTP_IF_NONE_MATCH": '"not-the-current-one"'},
            ),
            Case("unknown-section", "not_found", _DOC + "nope/", status=422, at_edge=False),
            Case("below-a-section", "not_found", _DOC + "heroes/x/", status=404, at_edge=False),
            Case("post", "method", _DOC, method="POST", status=405, at_edge=False),
            Case(
                "delete-section",
                "method",
                _DOC + "heroes/",
                method="DELETE",
                status=405,
                at_edge=False,
            ),
            Case("language-fr", "language", _DOC, "lang=fr", status=422, at_edge=False),
            Case("language-empty", "language", _DOC, "lang=", status=422, at_edge=False),
            Case("sections", "other", _DOC, "sections=heroes,seo", at_edge=False),
            Case("unknown-parameter", "other", _DOC, "lang=en&debug=1", at_edge=False),
            Case(
                "language-cookie",
                "other",
                _DOC,
                meta={"HTTP_COOKIE": "django_language=ar"},
                at_edge=False,
            ),
        ),
    ),
}


def parity_params(routes: Iterable[str]) -> list[Any]:
    """One test per (route, case) of `routes`; a route with no cases is one failing test."""
    params = []
    for prefix in sorted(routes):
        route = PARITY.get(prefix)
        if route is None:
            params.append(pytest.param(prefix, None, id=f"{prefix}:NO-PARITY-CASES"))
            continue
        params += [pytest.param(prefix, case, id=f"{prefix}:{case.name}") for case in route.cases]
    return params


def _envelope(body: bytes) -> Any:
    if not body:
        return None
    payload = orjson.loads(body)
    payload.pop("timestamp", None)
    return payload


def _stable(headers: dict[str, str]) -> dict[str, str]:
    return {name: value for name, value in headers.items() if name not in PER_REPLY}


@pytest.mark.parametrize(("prefix", "case"), parity_params(settings.EDGE_ROUTES))
def test_the_edge_replies_as_django_does(
    django_app: CountingApp, settings: Any, prefix: str, case: Case | None
) -> None:
    if case is None:
        pytest.fail(
            f"{prefix} is in settings.EDGE_ROUTES without parity cases: add them to PARITY in "
            f"{__name__} (every edge route is compared with Django's reply)"
        )
    settings.RATE_LIMIT_ENABLED = False
    PARITY[prefix].prepare()
    django = django_app.app
    meta = {"HTTP_X_REQUEST_ID": f"parity-{case.name}", **case.meta}
    if meta.get("HTTP_IF_NONE_MATCH") == CURRENT_ETAG:
        meta["HTTP_IF_NONE_MATCH"] = wsgi_get(django, case.path, case.query)[1]["etag"]
    edge = EdgeApp(django_app, routes={prefix: settings.EDGE_ROUTES[prefix]})

    status, headers, body = wsgi_get(edge, case.path, case.query, case.method, **meta)
    answered_at_edge = django_app.calls == 0
    expected = wsgi_get(django, case.path, case.query, case.method, **meta)

    assert (status, expected[0]) == (case.status, case.status), body
    assert answered_at_edge == case.at_edge
    assert _envelope(body) == _envelope(expected[2])
    assert _stable(headers) == _stable(expected[1])
    if case.kind in {"ok", "head", "not_modified"}:
        assert set(headers) >= DOCUMENT_HEADERS
    if case.method == "HEAD" or status == 304:
        assert body == b""
    if case.method == "HEAD" and status == 200:
        get = wsgi_get(django, case.path, case.query, **meta)
        assert headers["content-length"] == str(len(get[2]))
    if status >= 400:
        error = orjson.loads(body)
        assert error["status"] == "error"
        assert error["error"]["code"]


def test_every_edge_route_has_cases_of_every_kind() -> None:
    for prefix in settings.EDGE_ROUTES:
        assert prefix in PARITY, f"{prefix} has no parity cases"
        kinds = {case.kind for case in PARITY[prefix].cases}
        assert kinds >= REQUIRED_KINDS, f"{prefix} lacks {sorted(REQUIRED_KINDS - kinds)}"
        assert all(case.path.startswith(prefix) for case in PARITY[prefix].cases)


def test_a_route_added_without_cases_is_a_failing_case() -> None:
    params = parity_params([*settings.EDGE_ROUTES, "/api/new-document/"])

    missing = [param for param in params if param.values[1] is None]
    assert [param.values[0] for param in missing] == ["/api/new-document/"]


def test_the_edge_answers_no_route_that_needs_credentials() -> None:
    from config.api import api

    schema = api.get_openapi_schema()
    guarded = [
        f"{method.upper()} {path}"
        for path, operations in schema["paths"].items()
        for method, operation in operations.items()
        if method in {"get", "head"}
        and operation.get("security")
        and any(path.startswith(prefix) for prefix in settings.EDGE_ROUTES)
    ]
    assert guarded == []
