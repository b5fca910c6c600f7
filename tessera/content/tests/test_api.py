from __future__ import annotations

from datetime import timedelta
from typing import Any

import orjson
import pytest
from django.core.cache import cache
from django.utils import timezone

from tessera.content import services
from tessera.content.models import Hero, MenuItem
from tessera.content.selectors import SECTIONS

URL = "/api/website-data/"


def data(response: Any) -> Any:
    body = orjson.loads(response.content)
    assert body["status"] == "success"
    return body["data"]


def test_whole_document_has_both_languages(api: Any, site: int) -> None:
    response = api.get(URL)

    assert response.status_code == 200
    doc = data(response)
    assert list(doc) == list(SECTIONS)
    assert doc["menuItems"][0]["title"] == {"en": "Home", "ar": "الرئيسية"}
    assert [m["order"] for m in doc["menuItems"]] == sorted(m["order"] for m in doc["menuItems"])
    assert doc["homePage"]["title"]["ar"] == "مرحبًا بكم في المركز"
    assert len(doc["homePage"]["sections"]) == 3
    assert response["ETag"].startswith('W/"')
    assert response["Last-Modified"]


@pytest.mark.parametrize(
    ("query", "headers", "title"),
    [
        ("?lang=ar", {}, "الرئيسية"),
        ("?lang=en", {}, "Home"),
        ("", {"HTTP_ACCEPT_LANGUAGE": "ar"}, "الرئيسية"),
        ("", {"HTTP_ACCEPT_LANGUAGE": "fr"}, "Home"),
        ("?lang=en", {"HTTP_ACCEPT_LANGUAGE": "ar"}, "Home"),
    ],
)
def test_one_language(api: Any, site: int, query: str, headers: dict[str, str], title: str) -> None:
    doc = data(api.get(URL + query, **headers))

    assert doc["menuItems"][0]["title"] == title


def test_arabic_falls_back_to_english(api: Any, site: int) -> None:
    Hero.objects.create(title_en="Only English", order=99)

    doc = data(api.get(URL + "?lang=ar"))

    assert doc["heroes"][-1]["title"] == "Only English"


def test_hidden_and_scheduled_items_are_left_out(api: Any, db: Any) -> None:
    now = timezone.now()
    MenuItem.objects.create(title_en="Shown", url_en="/a", order=1)
    MenuItem.objects.create(title_en="Hidden", url_en="/b", is_visible=False)
    MenuItem.objects.create(title_en="Later", url_en="/c", publish_at=now + timedelta(hours=1))
    MenuItem.objects.create(title_en="Gone", url_en="/d", unpublish_at=now - timedelta(hours=1))

    doc = data(api.get(URL + "?lang=en"))

    assert [m["title"] for m in doc["menuItems"]] == ["Shown"]


def test_schedule_boundary_bounds_the_ttl(db: Any) -> None:
    MenuItem.objects.create(
        title_en="Soon", url_en="/s", publish_at=timezone.now() + timedelta(seconds=90)
    )

    built = services._build()

    assert 80 <= built.doc_ttl <= 92
    assert built.section_ttl == built.doc_ttl


def test_sections_subset_and_single_section(api: Any, site: int) -> None:
    doc = data(api.get(URL + "?sections=heroes,partners&lang=en"))
    assert list(doc) == ["heroes", "partners"]

    part = data(api.get(URL + "partners/?lang=ar"))
    assert part[0]["name"] == "وزارة التعليم"


@pytest.mark.parametrize(
    ("path", "field"),
    [
        (URL + "?lang=fr", "lang"),
        (URL + "?lang=", "lang"),
        (URL + "?sections=heroes,nope", "sections"),
        (URL + "?sections=", "sections"),
        (URL + "nope/", "section"),
        (URL + "heroes/?lang=de", "lang"),
    ],
)
def test_bad_input_is_422_listing_valid_values(api: Any, db: Any, path: str, field: str) -> None:
    response = api.get(path)

    assert response.status_code == 422
    error = orjson.loads(response.content)["error"]
    assert error["code"] == "validation_error"
    assert "en" in error["fields"][field] or "heroes" in error["fields"][field]


def test_if_none_match_gives_304(api: Any, site: int) -> None:
    first = api.get(URL + "?lang=en")

    again = api.get(URL + "?lang=en", HTTP_IF_NONE_MATCH=first["ETag"])
    other_language = api.get(URL + "?lang=ar", HTTP_IF_NONE_MATCH=first["ETag"])

    assert again.status_code == 304
    assert again.content == b""
    assert again["ETag"] == first["ETag"]
    assert other_language.status_code == 200


def test_warm_read_makes_no_query(api: Any, site: int, django_assert_num_queries: Any) -> None:
    api.get(URL)

    with django_assert_num_queries(0):
        assert api.get(URL).status_code == 200
        assert api.get(URL + "heroes/").status_code == 200
        assert api.get(URL + "?sections=seo,homePage").status_code == 200


def test_change_rebuilds_after_commit(
    api: Any, site: int, django_capture_on_commit_callbacks: Any
) -> None:
    before = api.get(URL + "?lang=en")
    hero: Any = Hero.objects.get(title_en="Applications for the spring cohort are open")

    with django_capture_on_commit_callbacks(execute=True) as callbacks:
        hero.title_en = "Applications closed"
        hero.save()
        MenuItem.objects.filter(title_en="News").first().delete()  # type: ignore[union-attr]

    assert len(callbacks) == 1  # one rebuild per transaction
    after = api.get(URL + "?lang=en", HTTP_IF_NONE_MATCH=before["ETag"])
    assert after.status_code == 200
    doc = data(after)
    assert "Applications closed" in [h["title"] for h in doc["heroes"]]
    assert "News" not in [m["title"] for m in doc["menuItems"]]


def test_rolled_back_change_rebuilds_nothing(
    site: int, django_capture_on_commit_callbacks: Any
) -> None:
    from django.db import transaction

    def create_then_fail() -> None:
        with transaction.atomic():
            Hero.objects.create(title_en="Never")
            raise RuntimeError

    with django_capture_on_commit_callbacks() as callbacks, pytest.raises(RuntimeError):
        create_then_fail()

    assert callbacks == []


def test_cold_cache_waits_for_the_rebuild_in_progress(
    api: Any, site: int, django_assert_num_queries: Any
) -> None:
    """While another process holds the rebuild lock, a reader waits for its result and does
    not query the database itself."""
    import threading

    built = services._build()
    cache.delete_many(list(built.entries))
    assert cache.add(services.LOCK_KEY, "1", timeout=30)
    threading.Timer(0.2, services._store, args=(built,)).start()

    with django_assert_num_queries(0):
        response = api.get(URL + "?lang=en")

    assert response.status_code == 200
    cache.delete(services.LOCK_KEY)


def test_cold_cache_is_rebuilt_once_by_concurrent_readers(
    db: Any, monkeypatch: pytest.MonkeyPatch
) -> None:
    import threading
    import time

    real_build = services._build()
    calls = []

    def slow_build() -> services.Built:
        calls.append(1)
        time.sleep(0.2)
        return real_build

    monkeypatch.setattr(services, "_build", slow_build)
    cache.clear()
    key = services.doc_key("all")
    results: list[Any] = []
    threads = [
        threading.Thread(target=lambda: results.append(services.cached_entries([key])))
        for _ in range(8)
    ]
    for t in threads:
        t.start()
    for t in threads:
        t.join()

    assert len(calls) == 1
    assert len(results) == 8
    assert all(r[key] == real_build.entries[key] for r in results)


def test_cache_down_serves_from_the_database(api: Any, site: int, settings: Any) -> None:
    # The default API rate limit keeps its counters in the same cache; it is not under test.
    settings.RATE_LIMIT_ENABLED = False
    settings.CACHES = {
        "default": {
            "BACKEND": "tessera.core.cache.PooledRedisCache",
            "LOCATION": "redis://127.0.0.1:1/0",
            "OPTIONS": {"socket_connect_timeout": 0.2},
        }
    }

    from structlog.testing import capture_logs

    with capture_logs() as logs:
        response = api.get(URL + "?lang=ar")

    assert response.status_code == 200
    assert data(response)["menuItems"][0]["title"] == "الرئيسية"
    assert "content.cache_unavailable" in [entry["event"] for entry in logs]


def test_update_redis_by_staff(api: Any, site: int, staff_api: Any) -> None:
    cache.clear()

    response = staff_api.post("/api/update-redis/")

    assert response.status_code == 200
    out = data(response)
    assert out["sizeBytes"] == len(cache.get(services.doc_key("all"))[2])
    assert api.get(URL)["ETag"] == f'W/"{out["version"]}"'


def test_update_redis_refuses_others(api: Any, user_api: Any, site: int) -> None:
    cache.clear()

    assert api.post("/api/update-redis/").status_code == 401
    assert user_api.post("/api/update-redis/").status_code == 403
    assert cache.get(services.doc_key("all")) is None


def test_update_redis_is_rate_limited(staff_api: Any, site: int, settings: Any) -> None:
    statuses = [staff_api.post("/api/update-redis/").status_code for _ in range(11)]

    assert statuses[:10] == [200] * 10
    assert statuses[10] == 429


def test_update_redis_with_admin_session_needs_csrf(admin_client: Any, site: int) -> None:
    from django.test import Client

    cache.clear()
    csrf_client = Client(enforce_csrf_checks=True)
    csrf_client.cookies = admin_client.cookies
    refused = csrf_client.post("/api/update-redis/")
    assert refused.status_code == 403
    assert cache.get(services.doc_key("all")) is None

    csrf_client.get("/admin/")  # sets the csrftoken cookie
    token = csrf_client.cookies["csrftoken"].value
    accepted = csrf_client.post("/api/update-redis/", HTTP_X_CSRFTOKEN=token)
    assert accepted.status_code == 200


def test_cache_disabled_builds_every_time(
    api: Any, site: int, settings: Any, django_assert_max_num_queries: Any
) -> None:
    settings.CONTENT_CACHE_ENABLED = False
    cache.clear()

    with django_assert_max_num_queries(7):
        assert data(api.get(URL + "?lang=en"))["menuItems"][0]["title"] == "Home"
    assert cache.get(services.doc_key("en")) is None


@pytest.mark.redis
def test_on_real_redis(api: Any, site: int, settings: Any, redis_url: str) -> None:
    """The same reads, 304 and one rebuild for concurrent cold readers, on Redis."""
    import threading
    import uuid

    settings.RATE_LIMIT_ENABLED = False
    settings.CACHES = {
        "default": {
            "BACKEND": "tessera.core.cache.PooledRedisCache",
            "LOCATION": redis_url,
            "KEY_PREFIX": f"content-test-{uuid.uuid4().hex}",  # never clear a shared db
            "TIMEOUT": 60,
        }
    }
    import time

    built = []
    document = services._build()  # in this thread: other threads cannot see the test's rows

    def counting_build() -> services.Built:
        built.append(1)
        time.sleep(0.2)
        return document

    with pytest.MonkeyPatch.context() as patch:
        patch.setattr(services, "_build", counting_build)
        key = services.doc_key("en")
        threads = [
            threading.Thread(target=services.cached_entries, args=([key],)) for _ in range(6)
        ]
        for thread in threads:
            thread.start()
        for thread in threads:
            thread.join()
    try:
        assert len(built) == 1
        first = api.get(URL + "?lang=en")
        assert data(first)["menuItems"][0]["title"] == "Home"
        assert api.get(URL + "?lang=en", HTTP_IF_NONE_MATCH=first["ETag"]).status_code == 304
    finally:
        cache.delete_many(list(document.entries))
