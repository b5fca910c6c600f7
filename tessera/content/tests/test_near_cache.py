"""The website document through the near cache (tessera/core/nearcache.py): a rebuild is seen
by the next read in the writing process and, once Redis's invalidation arrives, in every
other; without Redis, or switched off, reads go to the cache as before."""

from __future__ import annotations

import time
import uuid
from collections.abc import Iterator
from typing import Any

import orjson
import pytest
import redis
from django.core.cache import cache

from tessera.content import services
from tessera.content.models import MenuItem
from tessera.core.edge import EdgeApp
from tessera.core.nearcache import NearCache
from tests.fixtures import CountingApp, near_cache_settled, wsgi_get

pytestmark = pytest.mark.django_db

URL = "/api/website-data/"
ROUTES = {URL: "tessera.content.edge.website_data"}


def _first_title(body: bytes) -> str:
    return str(orjson.loads(body)["data"]["menuItems"][0]["title"])


@pytest.fixture
def redis_cache(settings: Any, redis_url: str) -> Iterator[None]:
    key_prefix = f"near-content-{uuid.uuid4().hex}"  # never clear a shared db
    settings.RATE_LIMIT_ENABLED = False
    settings.CACHES = {
        "default": {
            "BACKEND": "tessera.core.cache.PooledRedisCache",
            "LOCATION": redis_url,
            "KEY_PREFIX": key_prefix,
        }
    }
    yield
    plain = redis.Redis.from_url(redis_url)
    for full_key in plain.scan_iter(f"{key_prefix}:*"):
        plain.delete(full_key)


@pytest.fixture
def near(redis_cache: None) -> NearCache:
    found = services._near()
    assert found is not None
    assert found.wait_connected(5)
    return found


def _rename_first_menu_item(title: str) -> None:
    first = MenuItem.objects.order_by("order", "created_at").first()
    assert first is not None
    MenuItem.objects.filter(pk=first.pk).update(title_en=title)


@pytest.mark.redis
def test_a_rebuild_is_seen_by_the_next_edge_read(
    django_app: CountingApp, site: int, near: NearCache
) -> None:
    edge = EdgeApp(django_app, routes=ROUTES)
    services.document_rebuild()
    near_cache_settled(near)  # the rebuild's own invalidations: the reads below are kept
    first = wsgi_get(edge, URL, "lang=en")
    assert wsgi_get(edge, URL, "lang=en")[1]["etag"] == first[1]["etag"]
    assert services.doc_key("en") in near._entries

    _rename_first_menu_item("Start")
    services.document_rebuild()

    status, headers, body = wsgi_get(edge, URL, "lang=en")
    assert status == 200
    assert _first_title(body) == "Start"
    assert headers["etag"] != first[1]["etag"]
    assert django_app.calls == 0


@pytest.mark.redis
def test_a_rebuild_elsewhere_reaches_this_process(site: int, near: NearCache) -> None:
    # Another worker's near cache: same Redis, same keys, its own listener.
    other = NearCache(
        alias="default", prefix="content:", url=near.url, full_prefix=near.full_prefix
    )
    try:
        assert other.wait_connected(5)
        services.document_rebuild()
        near_cache_settled(other)
        before = other.get(services.doc_key("en"))
        assert services.doc_key("en") in other._entries

        _rename_first_menu_item("Start")
        services.document_rebuild()  # through this process's cache; `other` only hears Redis

        deadline = time.monotonic() + 1
        while other.get(services.doc_key("en")) == before and time.monotonic() < deadline:
            time.sleep(0.01)
        document = orjson.loads(other.get(services.doc_key("en"))[2])
        assert document["menuItems"][0]["title"] == "Start"
    finally:
        other.close()


@pytest.mark.redis
def test_a_warm_edge_read_makes_no_round_trip(
    django_app: CountingApp, site: int, near: NearCache, monkeypatch: Any
) -> None:
    edge = EdgeApp(django_app, routes=ROUTES)
    services.document_rebuild()
    near_cache_settled(near)
    wsgi_get(edge, URL + "heroes/")
    client = cache._cache.get_client(write=True)  # type: ignore[attr-defined]
    commands: list[Any] = []
    monkeypatch.setattr(client, "execute_command", lambda *a, **k: commands.append(a))
    monkeypatch.setattr(client, "pipeline", lambda *a, **k: commands.append(a))

    assert wsgi_get(edge, URL + "heroes/")[0] == 200
    assert services.cached_entries([services.section_key("heroes", "all")])

    assert commands == []
    assert django_app.calls == 0


@pytest.mark.redis
def test_switched_off_reads_go_to_redis(
    django_app: CountingApp, site: int, redis_cache: None, settings: Any
) -> None:
    settings.CONTENT_NEAR_CACHE = False
    services.document_rebuild()

    assert services._near() is None
    status, _headers, body = wsgi_get(EdgeApp(django_app, routes=ROUTES), URL, "lang=en")
    assert status == 200
    assert django_app.calls == 0
    assert _first_title(body) == "Home"


def test_no_near_cache_with_the_embedded_cache(site: int, settings: Any) -> None:
    # An in-process cache, whatever the lane runs on (the PostgreSQL + Redis lane: Redis).
    settings.CACHES = {
        "default": {"BACKEND": "django.core.cache.backends.locmem.LocMemCache", "LOCATION": "x"}
    }
    assert services._near() is None
    services.document_rebuild()

    assert services.cached_entry_if_warm(services.doc_key("en")) == cache.get(
        services.doc_key("en")
    )
