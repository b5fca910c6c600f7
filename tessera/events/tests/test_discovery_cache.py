"""Discovery's kept pages (docs/decisions/0038): a repeated search is served from the cache,
and every event write that changes what discovery shows is seen on the very next request.
Through the HTTP API and the services, on SQLite with the local-memory cache and on the
PostgreSQL + Redis lane."""

from __future__ import annotations

import socket
from collections.abc import Callable, Iterator
from contextlib import contextmanager
from datetime import timedelta
from typing import Any

import pytest
from django.conf import settings as django_settings
from django.db import connection
from django.http import QueryDict
from django.test.utils import CaptureQueriesContext
from django.utils import timezone
from structlog.testing import capture_logs

from tessera.events import discoverycache, selectors, services
from tessera.events.models import Event
from tessera.events.tests.conftest import iso
from tests.fixtures import ApiClient

pytestmark = pytest.mark.django_db

CAPE_TOWN = (-33.9249, 18.4241)
JOBURG = (-26.2041, 28.0473)
NEAR = f"lat={CAPE_TOWN[0]}&lng={CAPE_TOWN[1]}&radiusKm=25"
SEARCH = f"/api/events?q=jazz&{NEAR}"


@contextmanager
def event_statements() -> Iterator[list[str]]:
    """The statements that read or write the events table while the block runs."""
    found: list[str] = []
    with CaptureQueriesContext(connection) as queries:
        yield found
    found.extend(q["sql"] for q in queries.captured_queries if "events_event" in q["sql"])


def page(api: ApiClient, path: str = SEARCH) -> dict[str, Any]:
    reply = api.get(path)
    assert reply.status_code == 200, reply.json()
    data: dict[str, Any] = reply.json()["data"]
    return data


def titles(api: ApiClient, path: str = SEARCH) -> list[str]:
    return [item["title"] for item in page(api, path)["items"]]


@pytest.fixture
def venue(host_api: ApiClient) -> dict[str, Any]:
    reply = host_api.post(
        "/api/venues", {"name": "Garden", "latitude": CAPE_TOWN[0], "longitude": CAPE_TOWN[1]}
    )
    assert reply.status_code == 201, reply.json()
    return dict(reply.json()["data"])


@pytest.fixture
def in_town(
    make_event: Callable[..., dict[str, Any]], venue: dict[str, Any]
) -> Callable[..., dict[str, Any]]:
    """A public event at the Cape Town venue, published unless told otherwise."""

    def make(title: str, days: int = 7, **changes: Any) -> dict[str, Any]:
        return make_event(
            title=title,
            venueId=venue["id"],
            onlineUrl="",
            startsAt=iso(timedelta(days=days)),
            endsAt=iso(timedelta(days=days, hours=3)),
            **changes,
        )

    return make


def test_a_repeated_search_is_served_from_the_cache(
    in_town: Callable[..., dict[str, Any]], guest_api: ApiClient, host_api: ApiClient
) -> None:
    in_town("Jazz in the garden")
    first = page(guest_api)

    with event_statements() as statements:
        again = page(guest_api)
        # Another person, the same search: the page is nobody's in particular.
        from_host = page(host_api)

    assert statements == []
    assert again == first == from_host
    assert [item["title"] for item in first["items"]] == ["Jazz in the garden"]


def test_the_same_search_written_differently_is_the_same_page(
    in_town: Callable[..., dict[str, Any]], guest_api: ApiClient
) -> None:
    in_town("Jazz in the garden")
    start = timezone.now() + timedelta(days=1)
    utc = start.strftime("%Y-%m-%dT%H:%M:%SZ")
    plus_two = (start + timedelta(hours=2)).strftime("%Y-%m-%dT%H:%M:%S%%2B02:00")
    page(guest_api, f"{SEARCH}&from={utc}")

    with event_statements() as statements:
        same = page(guest_api, f"/api/events?{NEAR}&q=jazz&from={plus_two}&pageSize=20")

    assert statements == []
    assert [item["title"] for item in same["items"]] == ["Jazz in the garden"]


def test_publishing_a_matching_event_shows_on_the_next_request(
    in_town: Callable[..., dict[str, Any]], guest_api: ApiClient, host_api: ApiClient
) -> None:
    in_town("Jazz in the garden", days=7)
    assert titles(guest_api) == ["Jazz in the garden"]
    draft = in_town("Jazz at dawn", days=3, publish=False)
    assert titles(guest_api) == ["Jazz in the garden"]  # a draft changes nothing

    published = host_api.post(f"/api/events/{draft['id']}/publish")
    assert published.status_code == 200, published.json()

    assert titles(guest_api) == ["Jazz at dawn", "Jazz in the garden"]


def test_cancelling_postponing_and_editing_show_on_the_next_request(
    in_town: Callable[..., dict[str, Any]], guest_api: ApiClient, host_api: ApiClient
) -> None:
    garden = in_town("Jazz in the garden", days=7)
    cellar = in_town("Jazz in the cellar", days=8)
    roof = in_town("Jazz on the roof", days=9)
    assert titles(guest_api) == ["Jazz in the garden", "Jazz in the cellar", "Jazz on the roof"]

    host_api.post(f"/api/events/{cellar['id']}/cancel")
    assert titles(guest_api) == ["Jazz in the garden", "Jazz on the roof"]

    host_api.post(f"/api/events/{roof['id']}/postpone")
    assert titles(guest_api) == ["Jazz in the garden"]

    edited = host_api.patch(
        f"/api/events/{garden['id']}",
        {"title": "Jazz under the oaks", "startsAt": iso(timedelta(days=2, hours=1))},
    )
    assert edited.status_code == 200, edited.json()
    shown = page(guest_api)["items"]
    assert [item["title"] for item in shown] == ["Jazz under the oaks"]
    assert shown[0]["startsAt"] == edited.json()["data"]["startsAt"]

    # Its place moves 1,260 km away, by the venue's edit: out of the radius.
    moved = host_api.patch(
        f"/api/venues/{garden['venue']['id']}", {"latitude": JOBURG[0], "longitude": JOBURG[1]}
    )
    assert moved.status_code == 200, moved.json()
    assert titles(guest_api) == []
    assert titles(guest_api, f"/api/events?q=jazz&lat={JOBURG[0]}&lng={JOBURG[1]}&radiusKm=25") == [
        "Jazz under the oaks"
    ]


def test_private_and_draft_events_never_appear(
    in_town: Callable[..., dict[str, Any]], guest_api: ApiClient, host_api: ApiClient
) -> None:
    shown = in_town("Jazz in the garden", days=7)
    in_town("Jazz among friends", days=6, visibility="private")
    in_town("Jazz, a draft", days=5, publish=False)
    assert titles(guest_api) == ["Jazz in the garden"]
    assert titles(guest_api) == ["Jazz in the garden"]  # kept: still only the public one

    # The public one turns private while its page is kept: gone on the next request.
    reply = host_api.patch(f"/api/events/{shown['id']}", {"visibility": "private"})
    assert reply.status_code == 200, reply.json()
    assert titles(guest_api) == []
    assert titles(guest_api, "/api/events") == []


def test_cursor_pages_from_kept_pages_walk_every_event_once(
    in_town: Callable[..., dict[str, Any]], guest_api: ApiClient
) -> None:
    for day in range(1, 6):
        in_town(f"Jazz night {day}", days=day)

    def walk() -> list[str]:
        seen: list[str] = []
        cursor = ""
        while True:
            data = page(guest_api, f"{SEARCH}&pageSize=2{cursor}")
            seen += [item["title"] for item in data["items"]]
            if not data["nextCursor"]:
                return seen
            cursor = f"&cursor={data['nextCursor']}"

    built = walk()
    with event_statements() as statements:
        kept = walk()

    assert built == kept == [f"Jazz night {day}" for day in range(1, 6)]
    assert statements == []


def test_a_cursor_from_a_kept_page_continues_after_a_change(
    in_town: Callable[..., dict[str, Any]], guest_api: ApiClient, host_api: ApiClient
) -> None:
    for day in range(1, 4):
        in_town(f"Jazz night {day}", days=day)
    first = page(guest_api, f"{SEARCH}&pageSize=1")
    page(guest_api, f"{SEARCH}&pageSize=1&cursor={first['nextCursor']}")  # now kept
    third = Event.objects.get(title="Jazz night 2")

    host_api.patch(f"/api/events/{third.pk}", {"title": "Jazz night two"})

    second = page(guest_api, f"{SEARCH}&pageSize=1&cursor={first['nextCursor']}")
    assert [item["title"] for item in second["items"]] == ["Jazz night two"]


def test_seats_taken_do_not_retire_pages(
    in_town: Callable[..., dict[str, Any]], guest_api: ApiClient
) -> None:
    # The staleness the setting bounds: `placesLeft` may lag by EVENTS_DISCOVERY_CACHE_SECONDS.
    event = in_town("Jazz in the garden", capacity=5, requiresApproval=False)
    assert page(guest_api)["items"][0]["placesLeft"] == 5
    joined = guest_api.post(f"/api/events/{event['id']}/requests", {})
    assert joined.status_code == 201, joined.json()

    assert page(guest_api)["items"][0]["placesLeft"] == 5
    discoverycache.discovery_changed()
    assert page(guest_api)["items"][0]["placesLeft"] == 4


def test_the_sweep_completing_events_retires_pages(
    in_town: Callable[..., dict[str, Any]], guest_api: ApiClient
) -> None:
    in_town("Jazz in the garden", days=1)
    since = (timezone.now() - timedelta(days=1)).strftime("%Y-%m-%dT%H:%M:%SZ")
    path = f"{SEARCH}&from={since}"
    assert titles(guest_api, path) == ["Jazz in the garden"]

    services.events_sweep(at=timezone.now() + timedelta(days=2))

    assert titles(guest_api, path) == []


def test_zero_seconds_turns_the_cache_off(
    in_town: Callable[..., dict[str, Any]], guest_api: ApiClient, settings: Any
) -> None:
    settings.EVENTS_DISCOVERY_CACHE_SECONDS = 0
    in_town("Jazz in the garden")
    page(guest_api)

    with event_statements() as statements:
        again = page(guest_api)

    assert statements != []
    assert [item["title"] for item in again["items"]] == ["Jazz in the garden"]
    event = Event.objects.get()
    Event.objects.filter(pk=event.pk).update(title="Jazz renamed behind the services' back")
    assert titles(guest_api) == ["Jazz renamed behind the services' back"]


def test_a_refused_search_is_refused_from_a_warm_cache_too(
    in_town: Callable[..., dict[str, Any]], guest_api: ApiClient
) -> None:
    in_town("Jazz in the garden")
    page(guest_api)
    reply = guest_api.get(f"/api/events?q=jazz&lat={CAPE_TOWN[0]}&lng={CAPE_TOWN[1]}&radiusKm=900")
    assert reply.status_code == 422
    assert guest_api.get("/api/events?cursor=not-a-cursor").status_code == 422


def test_the_key_read_with_the_session_is_the_key_the_route_uses() -> None:
    # `BearerAuth(prefetch=)` guesses the page's key from the raw query; the route keys the
    # validated one. The bench's query, in both of the forms the API accepts.
    raw = QueryDict(
        "q=jazz%20night&lat=-33.9249&lng=18.4241&radiusKm=25&from=2026-12-05T10:00:00Z"
        "&to=2027-01-04T10:00:00%2B02:00&interests=3f1c0a4e-1f4e-4a55-9a53-1f0f1c6f9d10"
    )
    guessed = selectors.discovery_cache_keys(query=raw, base_url="http://testserver")
    validated = selectors.discovery_from_query(raw)
    assert validated is not None
    assert guessed == [
        discoverycache.GENERATION_KEY,
        selectors.discovery_page_key(validated, base_url="http://testserver"),
    ]
    assert all(len(key) < 200 for key in guessed)
    assert selectors.discovery_cache_keys(query=QueryDict("lat=north"), base_url="") == []


def closed_port() -> int:
    with socket.socket() as sock:
        sock.bind(("127.0.0.1", 0))
        return int(sock.getsockname()[1])


def test_a_dead_cache_serves_discovery_from_the_database(
    in_town: Callable[..., dict[str, Any]],
    guest_api: ApiClient,
    host_api: ApiClient,
    settings: Any,
) -> None:
    event = in_town("Jazz in the garden")
    settings.CACHES = {
        "default": {
            "BACKEND": "tessera.core.cache.PooledRedisCache",
            "LOCATION": f"redis://127.0.0.1:{closed_port()}/0",
            "KEY_PREFIX": "outage-test",
            "OPTIONS": django_settings.REDIS_CACHE_OPTIONS,
        }
    }
    settings.RATE_LIMIT_ENABLED = False

    with capture_logs() as logs:
        assert titles(guest_api) == ["Jazz in the garden"]
        renamed = host_api.patch(f"/api/events/{event['id']}", {"title": "Jazz under the oaks"})
        assert renamed.status_code == 200, renamed.json()
        assert titles(guest_api) == ["Jazz under the oaks"]

    unavailable = [e for e in logs if e["event"] == "events.discovery_cache_unavailable"]
    assert len(unavailable) == 1


def test_an_admin_edit_shows_on_the_next_request(
    in_town: Callable[..., dict[str, Any]], guest_api: ApiClient
) -> None:
    from django.contrib import admin
    from django.test import RequestFactory

    in_town("Jazz in the garden")
    assert titles(guest_api) == ["Jazz in the garden"]
    event = Event.objects.get()
    event.title = "Jazz, renamed by support"
    model_admin = admin.site._registry[Event]

    model_admin.save_model(RequestFactory().post("/admin/"), event, form=None, change=True)
    assert titles(guest_api) == ["Jazz, renamed by support"]

    model_admin.delete_model(RequestFactory().post("/admin/"), event)
    assert titles(guest_api) == []


def test_a_host_renaming_themselves_shows_on_the_next_request(
    in_town: Callable[..., dict[str, Any]], guest_api: ApiClient, host_api: ApiClient
) -> None:
    in_town("Jazz in the garden")
    assert [item["host"]["name"] for item in page(guest_api)["items"]] == ["Hana Host"]

    renamed = host_api.patch("/api/auth/me", {"name": "Hana Renamed"})
    assert renamed.status_code == 200, renamed.json()

    assert [item["host"]["name"] for item in page(guest_api)["items"]] == ["Hana Renamed"]
    # Another profile field is not shown: it leaves the kept pages alone.
    with event_statements() as statements:
        assert host_api.patch("/api/auth/me", {"bio": "Jazz lover"}).status_code == 200
        page(guest_api)
    assert not [sql for sql in statements if sql.lstrip().startswith("SELECT")]


@pytest.mark.parametrize("value", ["0001-01-01T00:00:00+14:00", "9999-12-31T23:59:59-12:00"])
def test_a_time_with_no_utc_equivalent_is_refused_when_the_page_is_read_with_the_session(
    guest: Any, value: str
) -> None:
    # A signed-in token (with a session) has the page's key worked out from the raw query
    # before the schema sees it; that key took the time to UTC and overflowed (a 500).
    login = ApiClient().post(
        "/api/auth/login", {"email": guest.email, "password": "a long pass phrase"}
    )
    api = ApiClient(token=login.json()["data"]["accessToken"])
    reply = api.get("/api/events", {"from": value})
    assert reply.status_code == 422, reply.json()
    assert "from" in reply.json()["error"]["fields"]
