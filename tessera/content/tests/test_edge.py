"""/api/website-data/ answered at the edge (tessera/core/edge.py): the same replies as the
API view, and Django left to answer everything the edge does not fully understand."""

from __future__ import annotations

from typing import Any

import orjson
import pytest

from tessera.content import services
from tessera.core.edge import EdgeApp, wrap
from tests.fixtures import CountingApp, wsgi_get

pytestmark = pytest.mark.django_db

URL = "/api/website-data/"
ROUTES = {URL: "tessera.content.edge.website_data"}
# Headers that differ between any two replies, whoever answers.
PER_REPLY = {"x-request-id", "date"}


@pytest.fixture
def edge(django_app: CountingApp, settings: Any) -> EdgeApp:
    settings.RATE_LIMIT_ENABLED = False
    return EdgeApp(django_app, routes=ROUTES)


def _without_timestamp(body: bytes) -> Any:
    if not body:
        return None
    payload = orjson.loads(body)
    payload.pop("timestamp")
    return payload


def _warm(site: int) -> None:
    services.document_rebuild()


@pytest.mark.parametrize(
    ("path", "query", "meta"),
    [
        (URL, "", {}),
        (URL, "lang=en", {}),
        (URL, "lang=ar", {}),
        (URL, "", {"HTTP_ACCEPT_LANGUAGE": "ar-EG,ar;q=0.9"}),
        (URL, "", {"HTTP_ACCEPT_LANGUAGE": "fr-FR"}),
        (URL + "heroes/", "", {}),
        (URL + "seo/", "lang=ar", {}),
    ],
)
def test_the_edge_replies_as_the_api_does(
    edge: EdgeApp, django_app: CountingApp, site: int, *, path: str, query: str, meta: Any
) -> None:
    _warm(site)

    status, headers, body = wsgi_get(edge, path, query, **meta)
    assert django_app.calls == 0  # answered at the edge
    expected_status, expected_headers, expected_body = wsgi_get(django_app, path, query, **meta)

    assert status == expected_status == 200
    assert _without_timestamp(body) == _without_timestamp(expected_body)
    assert {k: v for k, v in headers.items() if k not in PER_REPLY} == {
        k: v for k, v in expected_headers.items() if k not in PER_REPLY
    }


def test_if_none_match_is_a_304_at_the_edge_too(
    edge: EdgeApp, django_app: CountingApp, site: int
) -> None:
    _warm(site)
    _status, first, _body = wsgi_get(edge, URL, "lang=en")

    status, headers, body = wsgi_get(edge, URL, "lang=en", HTTP_IF_NONE_MATCH=first["etag"])
    expected = wsgi_get(django_app, URL, "lang=en", HTTP_IF_NONE_MATCH=first["etag"])

    assert django_app.calls == 1  # only the comparison request
    assert (status, body) == (304, b"") == (expected[0], expected[2])
    assert {k: v for k, v in headers.items() if k not in PER_REPLY} == {
        k: v for k, v in expected[1].items() if k not in PER_REPLY
    }


def test_a_request_id_is_kept_and_the_reply_logged(
    django_app: CountingApp, site: int, settings: Any, capfd: Any
) -> None:
    import logging

    settings.RATE_LIMIT_ENABLED = False
    settings.LOG_FORMAT = "json"
    access = logging.getLogger("tessera.access")
    level = access.level
    access.setLevel(logging.INFO)  # the test settings keep the access log quiet
    try:
        edge = EdgeApp(django_app, routes=ROUTES)  # its access log: JSON lines on stdout
    finally:
        access.setLevel(level)
    _warm(site)
    capfd.readouterr()

    _status, headers, _body = wsgi_get(edge, URL, HTTP_X_REQUEST_ID="probe-7")

    assert headers["x-request-id"] == "probe-7"
    lines = [orjson.loads(line) for line in capfd.readouterr().out.splitlines() if line]
    assert len(lines) == 1
    assert lines[0] | {"duration_ms": 0, "timestamp": ""} == {
        "event": "request",
        "level": "info",
        "logger": "tessera.access",
        "request_id": "probe-7",
        "method": "GET",
        "path": URL,
        "route": "api/website-data/",
        "status": 200,
        "duration_ms": 0,
        "timestamp": "",
        "user_id": None,
        "ip": "127.0.0.1",
    }


@pytest.mark.parametrize(
    ("query", "meta", "status"),
    [
        ("", {"HTTP_ORIGIN": "https://site.example"}, 200),  # CORS: Django's middleware
        ("lang=fr", {}, 422),  # the error and its envelope come from the API view
        ("sections=heroes,seo", {}, 200),
        ("lang=en&debug=1", {}, 200),
        ("", {"HTTP_COOKIE": "django_language=ar"}, 200),
        ("", {"HTTP_HOST": "evil.example"}, 400),  # outside ALLOWED_HOSTS
    ],
)
def test_what_the_edge_does_not_understand_goes_to_django(
    edge: EdgeApp, django_app: CountingApp, site: int, *, query: str, meta: Any, status: int
) -> None:
    _warm(site)

    answered = wsgi_get(edge, URL, query, **meta)

    assert django_app.calls == 1
    assert answered[0] == status


def test_other_methods_and_paths_go_to_django(
    edge: EdgeApp, django_app: CountingApp, site: int
) -> None:
    _warm(site)

    assert wsgi_get(edge, URL, method="POST")[0] == 405
    assert wsgi_get(edge, URL + "nope/")[0] == 422
    assert django_app.calls == 2


def test_a_cold_cache_goes_to_django_which_rebuilds_it(
    edge: EdgeApp, django_app: CountingApp, site: int
) -> None:
    from django.core.cache import cache

    cache.delete_many([services.doc_key(variant) for variant in ("all", "en", "ar")])

    assert wsgi_get(edge, URL, "lang=en")[0] == 200
    assert django_app.calls == 1
    assert wsgi_get(edge, URL, "lang=en")[0] == 200
    assert django_app.calls == 1  # warm again: the edge answered


def test_an_https_redirect_is_left_to_django(
    django_wsgi_app: Any, site: int, settings: Any
) -> None:
    _warm(site)
    settings.RATE_LIMIT_ENABLED = False
    settings.SECURE_SSL_REDIRECT = True
    django_app = CountingApp(type(django_wsgi_app)())  # its middleware reads the setting when built
    edge = EdgeApp(django_app, routes=ROUTES)

    status, headers, _body = wsgi_get(edge, URL)

    assert django_app.calls == 1
    assert status == 301
    assert headers["location"].startswith("https://")


def test_the_default_rate_limit_counts_edge_replies(
    django_wsgi_app: Any, site: int, settings: Any
) -> None:
    settings.RATE_LIMIT_ENABLED = True
    settings.RATE_LIMIT_DEFAULT = "3/minute"
    django_app = CountingApp(type(django_wsgi_app)())  # its middleware reads the limit when built
    edge = EdgeApp(django_app, routes=ROUTES)
    _warm(site)

    statuses = [wsgi_get(edge, URL)[0] for _ in range(5)]

    assert statuses == [200, 200, 200, 429, 429]
    # The refusals come from Django, with its envelope and Retry-After.
    assert django_app.calls == 2


def test_a_failing_handler_leaves_the_reply_to_django(
    edge: EdgeApp, django_app: CountingApp, site: int, monkeypatch: Any
) -> None:
    _warm(site)

    def broken(key: str) -> Any:
        raise RuntimeError("a bug in the fast path")

    monkeypatch.setattr(services, "cached_entry_if_warm", broken)

    assert wsgi_get(edge, URL)[0] == 200
    assert django_app.calls == 1


def test_the_edge_stands_in_front_only_when_enabled(django_app: CountingApp, settings: Any) -> None:
    settings.EDGE_ENABLED = False
    assert wrap(django_app) is django_app

    settings.EDGE_ENABLED = True
    assert isinstance(wrap(django_app), EdgeApp)


@pytest.mark.redis
def test_on_real_redis(django_app: CountingApp, site: int, settings: Any, redis_url: str) -> None:
    import uuid

    settings.RATE_LIMIT_ENABLED = False
    settings.CACHES = {
        "default": {
            "BACKEND": "tessera.core.cache.PooledRedisCache",
            "LOCATION": redis_url,
            "KEY_PREFIX": f"edge-test-{uuid.uuid4().hex}",  # never clear a shared db
        }
    }
    edge = EdgeApp(django_app, routes=ROUTES)
    try:
        assert wsgi_get(edge, URL, "lang=ar")[0] == 200  # cold: Django rebuilds
        status, _headers, body = wsgi_get(edge, URL, "lang=ar")

        assert status == 200
        assert django_app.calls == 1
        assert orjson.loads(body)["data"]["menuItems"][0]["title"] == "الرئيسية"
    finally:
        from django.core.cache import cache

        cache.delete_many(
            [services.doc_key(v) for v in ("all", "en", "ar")]
            + [services.section_key(s, v) for s in services.SECTIONS for v in ("all", "en", "ar")]
        )
