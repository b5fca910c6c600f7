"""Box pages kept in the cache (tessera/capsules/boxcache.py), served by Django with Ninja's
one token check (docs/decisions/0032): never a page older than the last change a reader
could see."""

from __future__ import annotations

import time
import warnings
from datetime import timedelta
from typing import Any

import orjson
import pytest
from django.core.cache import caches
from django.core.cache.backends.base import CacheKeyWarning
from django.db import connection
from django.test.utils import CaptureQueriesContext

from tessera.capsules import boxcache
from tessera.capsules.models import Capsule, CapsuleState
from tessera.capsules.tests.factories import make_capsule
from tessera.core import edge
from tests.fixtures import ApiClient, CountingApp, wsgi_get

pytestmark = pytest.mark.django_db

PER_REPLY = {"x-request-id", "date"}


def capsule_queries(captured: CaptureQueriesContext) -> list[str]:
    return [q["sql"] for q in captured.captured_queries if "capsules_capsule" in q["sql"]]


def items(client: ApiClient, query: str = "box=inbox") -> list[dict[str, Any]]:
    response = client.get(f"/api/capsules?{query}")
    assert response.status_code == 200, response.json()
    return list(response.json()["data"]["items"])


def test_a_second_read_of_a_box_is_answered_from_the_cache(
    user: Any, other_user: Any, other_api: ApiClient
) -> None:
    make_capsule(sender=user, receiver=other_user)
    first = items(other_api)

    with CaptureQueriesContext(connection) as captured:
        again = items(other_api)

    assert again == first
    assert capsule_queries(captured) == []


def test_every_change_a_reader_could_see_retires_the_kept_pages(
    user: Any, other_user: Any, user_api: ApiClient, other_api: ApiClient
) -> None:
    ready = make_capsule(sender=user, receiver=other_user, unlock_in=timedelta(seconds=-5))
    assert [i["state"] for i in items(other_api)] == ["ready"]
    assert len(items(user_api, "box=outbox")) == 1

    # A new capsule sealed to them (a service save), then opened by the receiver.
    created = user_api.post("/api/capsules", {"title": "New", "receiverId": str(other_user.pk)})
    assert created.status_code == 201
    new_id = created.json()["data"]["id"]
    assert len(items(user_api, "box=outbox")) == 2  # the draft, in the sender's outbox
    sealed = user_api.post(
        f"/api/capsules/{new_id}/seal",
        {"scheduledUnlockAt": (Capsule.objects.get(pk=new_id).created_at + timedelta(days=9))},
    )
    assert sealed.status_code == 200, sealed.json()
    assert [i["id"] for i in items(other_api)] == [new_id, str(ready.pk)]
    assert other_api.post(f"/api/capsules/{ready.pk}/open").status_code == 200
    assert [i["state"] for i in items(other_api)] == ["sealed", "opened"]
    assert [i["state"] for i in items(user_api, "box=outbox")] == ["sealed", "opened"]

    # The sender renames themselves: their own pages show it at once.
    assert user_api.patch("/api/auth/me", {"name": "Ada King"}).status_code == 200
    assert {i["sender"]["name"] for i in items(user_api, "box=outbox")} == {"Ada King"}

    # Deleted (by an admin, say): gone from both boxes.
    Capsule.objects.filter(pk=new_id).get().delete()
    assert [i["id"] for i in items(other_api)] == [str(ready.pk)]


def test_a_page_built_from_rows_read_before_a_change_is_never_served_after_it(
    user: Any, other_user: Any, other_api: ApiClient
) -> None:
    key = boxcache.page_key(other_user.pk, box="inbox", page=1, size=20, cursor=None)
    kept, version = boxcache.page_lookup(other_user.pk, key)
    assert kept is None
    assert version is not None
    stale = b'{"items":[],"count":0}'
    make_capsule(sender=user, receiver=other_user)  # a change commits meanwhile

    boxcache.page_keep(key=key, version=version, body=stale, changes_at=None)  # written late

    assert len(items(other_api)) == 1


def test_a_page_is_not_kept_past_the_moment_a_capsule_on_it_unlocks(
    user: Any, other_user: Any, other_api: ApiClient
) -> None:
    make_capsule(
        sender=user,
        receiver=other_user,
        unlock_in=timedelta(seconds=2.2),
        sealed_ago=timedelta(seconds=10),  # sealed under 3 days ahead: no unfolding
    )
    assert [i["state"] for i in items(other_api)] == ["sealed"]

    time.sleep(2.4)

    assert [i["state"] for i in items(other_api)] == ["ready"]


def test_lists_by_state_are_never_kept(user: Any, other_user: Any, other_api: ApiClient) -> None:
    make_capsule(sender=user, receiver=other_user)
    items(other_api, "box=inbox&state=sealed")

    with CaptureQueriesContext(connection) as captured:
        items(other_api, "box=inbox&state=sealed")

    assert capsule_queries(captured) != []


def test_with_the_cache_off_every_read_queries(
    user: Any, other_user: Any, other_api: ApiClient, settings: Any
) -> None:
    settings.CAPSULE_PAGE_CACHE = False
    make_capsule(sender=user, receiver=other_user)
    items(other_api)

    with CaptureQueriesContext(connection) as captured:
        items(other_api)

    assert capsule_queries(captured) != []


def test_with_the_cache_down_the_box_is_read_from_the_database(
    user: Any, other_user: Any, settings: Any
) -> None:
    from tessera.accounts.tokens import access_token_issue

    make_capsule(sender=user, receiver=other_user)
    token = access_token_issue(user=other_user)
    settings.RATE_LIMIT_ENABLED = False
    settings.AUTH_SESSION_CACHE_SECONDS = 0
    settings.CACHES = {
        "default": {
            "BACKEND": "tessera.core.cache.PooledRedisCache",
            "LOCATION": "redis://127.0.0.1:1/0",
            "OPTIONS": {"socket_connect_timeout": 0.2},
        }
    }

    assert len(items(ApiClient(token=token))) == 1


# --- Through the production WSGI stack -------------------------------------------------------


@pytest.fixture
def stack(django_app: CountingApp, settings: Any) -> Any:
    """The edge in front of Django, as config/wsgi.py builds it in production."""
    settings.RATE_LIMIT_ENABLED = False
    settings.EDGE_ENABLED = True
    return edge.wrap(django_app)


def login(email: str, password: str) -> dict[str, str]:
    response = ApiClient().post("/api/auth/login", {"email": email, "password": password})
    assert response.status_code == 200, response.json()
    return {"HTTP_AUTHORIZATION": f"Bearer {response.json()['data']['accessToken']}"}


def payload(body: bytes) -> Any:
    data = orjson.loads(body)
    data.pop("timestamp")
    return data


@pytest.mark.parametrize(
    "query",
    ["box=inbox", "", "box=outbox", "box=inbox&pageSize=2", "box=inbox&page=2&pageSize=2"],
)
def test_a_kept_page_is_served_by_django_as_it_was_built(
    stack: Any, django_app: CountingApp, user: Any, other_user: Any, query: str
) -> None:
    for _ in range(3):
        make_capsule(sender=other_user, receiver=user)
        make_capsule(sender=user, receiver=other_user)
    auth = login("ada@example.com", "correct horse battery")
    first = wsgi_get(stack, "/api/capsules", query, **auth)  # built and kept
    assert first[0] == 200

    with CaptureQueriesContext(connection) as captured:
        status, headers, body = wsgi_get(stack, "/api/capsules", query, **auth)

    assert django_app.calls == 2  # nothing signed in is answered at the edge
    assert capsule_queries(captured) == []
    assert status == 200
    assert payload(body) == payload(first[2])
    assert {k: v for k, v in headers.items() if k not in PER_REPLY} == {
        k: v for k, v in first[1].items() if k not in PER_REPLY
    }


def test_head_on_a_kept_page_is_the_get_without_its_body(stack: Any, user: Any) -> None:
    auth = login("ada@example.com", "correct horse battery")
    get = wsgi_get(stack, "/api/capsules", **auth)
    wsgi_get(stack, "/api/capsules", **auth)

    status, headers, body = wsgi_get(stack, "/api/capsules", method="HEAD", **auth)

    assert (status, body) == (200, b"")
    assert headers["content-length"] == str(len(get[2]))


def test_a_cursor_page_is_kept(stack: Any, user: Any, other_user: Any) -> None:
    for _ in range(3):
        make_capsule(sender=other_user, receiver=user)
    auth = login("ada@example.com", "correct horse battery")
    cursor = orjson.loads(wsgi_get(stack, "/api/capsules", "pageSize=2", **auth)[2])["data"][
        "nextCursor"
    ]
    first = wsgi_get(stack, "/api/capsules", f"pageSize=2&cursor={cursor}", **auth)

    with CaptureQueriesContext(connection) as captured:
        again = wsgi_get(stack, "/api/capsules", f"pageSize=2&cursor={cursor}", **auth)

    assert capsule_queries(captured) == []
    assert payload(again[2]) == payload(first[2])
    assert len(payload(again[2])["data"]["items"]) == 1


def test_any_cursor_a_client_sends_makes_a_key_any_cache_accepts(
    stack: Any, user: Any, other_user: Any
) -> None:
    make_capsule(sender=other_user, receiver=user)
    auth = login("ada@example.com", "correct horse battery")

    with warnings.catch_warnings():
        warnings.simplefilter("error", CacheKeyWarning)
        status = wsgi_get(stack, "/api/capsules", f"pageSize=2&cursor={'A' * 400}", **auth)[0]

    assert status == 422
    key = boxcache.page_key(user.pk, box="inbox", page=1, size=2, cursor="A" * 400)
    assert len(key) < 250
    assert key != boxcache.page_key(user.pk, box="inbox", page=1, size=2, cursor="A" * 401)


def test_a_change_is_seen_at_once(stack: Any, user: Any, other_user: Any) -> None:
    capsule = make_capsule(sender=other_user, receiver=user, unlock_in=timedelta(seconds=-5))
    auth = login("ada@example.com", "correct horse battery")
    wsgi_get(stack, "/api/capsules", **auth)
    assert wsgi_get(stack, "/api/capsules", **auth)[0] == 200

    opened = wsgi_get(stack, f"/api/capsules/{capsule.pk}/open", method="POST", **auth)
    assert opened[0] == 200, opened[2]

    data = orjson.loads(wsgi_get(stack, "/api/capsules", **auth)[2])["data"]
    assert [item["state"] for item in data["items"]] == [CapsuleState.OPENED]


@pytest.mark.parametrize(
    ("query", "status"),
    [
        ("state=sealed", 200),
        ("box=drafts", 422),
        ("page=0", 422),
        ("page=", 422),
        ("page=1.5", 422),
        ("pageSize=-1", 422),
        ("cursor=", 200),
        ("cursor=abc&page=2", 422),
        ("page_size=5", 200),
        ("lang=ar", 200),
        ("box=inbox&extra=1", 200),
    ],
)
def test_other_forms_are_validated_as_always(
    stack: Any, user: Any, query: str, status: int
) -> None:
    auth = login("ada@example.com", "correct horse battery")
    wsgi_get(stack, "/api/capsules", **auth)

    answered = wsgi_get(stack, "/api/capsules", query, **auth)

    assert answered[0] == status, answered[2]


def test_a_page_kept_for_one_user_is_never_anothers(stack: Any, user: Any, other_user: Any) -> None:
    make_capsule(sender=other_user, receiver=user)
    ada = login("ada@example.com", "correct horse battery")
    grace = login("grace@example.com", "another long pass")
    wsgi_get(stack, "/api/capsules", **ada)
    assert len(payload(wsgi_get(stack, "/api/capsules", **ada)[2])["data"]["items"]) == 1

    assert payload(wsgi_get(stack, "/api/capsules", **grace)[2])["data"]["items"] == []


@pytest.mark.parametrize("authorization", ["", "Bearer x.y.z", "Basic YWRhOnB3"])
def test_a_kept_page_needs_a_valid_token(stack: Any, user: Any, authorization: str) -> None:
    auth = login("ada@example.com", "correct horse battery")
    wsgi_get(stack, "/api/capsules", **auth)

    status, _headers, body = wsgi_get(stack, "/api/capsules", HTTP_AUTHORIZATION=authorization)

    assert status == 401
    assert orjson.loads(body)["error"]["code"] == "not_authenticated"


def test_a_kept_page_is_refused_once_the_session_ends(stack: Any, user: Any) -> None:
    auth = login("ada@example.com", "correct horse battery")
    wsgi_get(stack, "/api/capsules", **auth)
    assert wsgi_get(stack, "/api/capsules", **auth)[0] == 200

    token = auth["HTTP_AUTHORIZATION"].split()[1]
    assert ApiClient(token=token).post("/api/auth/logout").status_code == 204

    assert wsgi_get(stack, "/api/capsules", **auth)[0] == 401


# --- One cache round trip (docs/decisions/0037) ---------------------------------------------


class CacheReads:
    """Counts the default cache's `get_many` calls (each one round trip to Redis)."""

    def __init__(self, monkeypatch: pytest.MonkeyPatch) -> None:
        self.calls: list[list[str]] = []
        backend = caches["default"]
        get_many = backend.get_many

        def counted(keys: Any, *args: Any, **kwargs: Any) -> Any:
            self.calls.append(list(keys))
            return get_many(keys, *args, **kwargs)

        monkeypatch.setattr(backend, "get_many", counted)


@pytest.mark.parametrize(
    "query",
    [
        "box=inbox",
        "",
        "box=outbox",
        "box=inbox&pageSize=2",
        "box=inbox&page_size=2",
        "box=inbox&page=2&pageSize=2",
        "lang=ar",
    ],
)
def test_a_kept_page_is_read_with_the_session_in_one_round_trip(
    stack: Any, user: Any, other_user: Any, query: str, monkeypatch: pytest.MonkeyPatch
) -> None:
    for _ in range(3):
        make_capsule(sender=other_user, receiver=user)
        make_capsule(sender=user, receiver=other_user)
    auth = login("ada@example.com", "correct horse battery")
    first = wsgi_get(stack, "/api/capsules", query, **auth)
    wsgi_get(stack, "/api/capsules", query, **auth)  # the session entry is cached by now
    reads = CacheReads(monkeypatch)

    again = wsgi_get(stack, "/api/capsules", query, **auth)

    assert again[0] == 200
    assert payload(again[2]) == payload(first[2])
    assert len(reads.calls) == 1, reads.calls
    assert any(key.startswith("accounts:auth:v2:") for key in reads.calls[0])
    assert any(key.startswith("capsules:page:v1:") for key in reads.calls[0])


def test_a_cursor_page_is_read_with_the_session_too(
    stack: Any, user: Any, other_user: Any, monkeypatch: pytest.MonkeyPatch
) -> None:
    for _ in range(3):
        make_capsule(sender=other_user, receiver=user)
    auth = login("ada@example.com", "correct horse battery")
    first = wsgi_get(stack, "/api/capsules", "pageSize=2", **auth)
    query = f"pageSize=2&cursor={orjson.loads(first[2])['data']['nextCursor']}"
    wsgi_get(stack, "/api/capsules", query, **auth)
    reads = CacheReads(monkeypatch)

    again = wsgi_get(stack, "/api/capsules", query, **auth)

    assert len(payload(again[2])["data"]["items"]) == 1
    assert len(reads.calls) == 1


def test_a_page_read_with_the_session_is_served_only_under_the_current_version(
    stack: Any, user: Any, other_user: Any
) -> None:
    make_capsule(sender=other_user, receiver=user)
    auth = login("ada@example.com", "correct horse battery")
    wsgi_get(stack, "/api/capsules", **auth)
    assert len(payload(wsgi_get(stack, "/api/capsules", **auth)[2])["data"]["items"]) == 1

    make_capsule(sender=other_user, receiver=user)  # retires the version

    assert len(payload(wsgi_get(stack, "/api/capsules", **auth)[2])["data"]["items"]) == 2


def test_the_prefetched_values_are_used_only_under_the_key_the_route_computes(
    user: Any, other_user: Any
) -> None:
    key = boxcache.page_key(user.pk, box="inbox", page=1, size=20, cursor=None)
    kept, version = boxcache.page_lookup(user.pk, key)
    assert kept is None
    assert version is not None
    boxcache.page_keep(key=key, version=version, body=b'{"mine":1}', changes_at=None)
    others = boxcache.page_key(other_user.pk, box="inbox", page=1, size=20, cursor=None)

    # Values read for another key (another user's page, another size) are not this page.
    wrong = {boxcache.version_key(other_user.pk): version, others: (version, b'{"x":1}')}
    assert boxcache.page_lookup(user.pk, key, prefetched=wrong)[0] == b'{"mine":1}'
    # The page's own keys, read with the session, answer without another read.
    read = {boxcache.version_key(user.pk): version, key: (version, b'{"read":1}')}
    assert boxcache.page_lookup(user.pk, key, prefetched=read) == (b'{"read":1}', version)
    # A page under an older version is not served, whoever read it.
    stale = {boxcache.version_key(user.pk): "newer", key: (version, b'{"read":1}')}
    assert boxcache.page_lookup(user.pk, key, prefetched=stale) == (None, "newer")


@pytest.mark.parametrize(
    ("query", "expected"),
    [
        ({"box": "inbox"}, ("inbox", 1, 20, "")),
        ({}, ("inbox", 1, 20, "")),
        ({"box": "outbox", "page": "3"}, ("outbox", 3, 20, "")),
        ({"cursor": "abc"}, ("inbox", 1, 20, "abc")),
        ({"state": "sealed"}, None),
        ({"box": "drafts"}, None),
        ({"page": "x"}, None),
        ({"pageSize": "x"}, None),
    ],
)
def test_the_keys_guessed_from_a_raw_query(
    user: Any, query: dict[str, str], expected: tuple[str, int, int, str] | None
) -> None:
    from tessera.capsules import services

    keys = services.box_page_cache_keys(query=query, user_id=str(user.pk))

    if expected is None:
        assert keys == []
    else:
        box, page, size, cursor = expected
        assert keys == [
            boxcache.version_key(user.pk),
            boxcache.page_key(user.pk, box=box, page=page, size=size, cursor=cursor or None),
        ]
