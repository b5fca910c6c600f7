"""Discovery: text, interests, dates, distance, price, free only, cursor pages, on SQLite
and (the same tests) on PostgreSQL with its full text and trigram indexes."""

from __future__ import annotations

import base64
import uuid
from datetime import timedelta
from typing import Any

import pytest
from django.utils import timezone

from tessera.accounts.models import EventInterest
from tessera.core.pagination import cursor_sign
from tessera.events import statemachine as sm
from tessera.events.models import Event, Venue
from tessera.events.tests.conftest import client_for, make_user

pytestmark = pytest.mark.django_db

CAPE_TOWN = (-33.9249, 18.4241)
STELLENBOSCH = (-33.9321, 18.8602)  # ~40 km east
JOBURG = (-26.2041, 28.0473)  # ~1,260 km away


@pytest.fixture
def world(db: Any) -> dict[str, Any]:
    host = make_user("world-host@example.com")
    music = EventInterest.objects.create(slug="music-x", name="Music")
    food = EventInterest.objects.create(slug="food-x", name="Food")
    now = timezone.now()

    def venue(name: str, point: tuple[float, float]) -> Venue:
        return Venue.objects.create(owner=host, name=name, latitude=point[0], longitude=point[1])

    def event(title: str, point: tuple[float, float] | None, days: int, **fields: Any) -> Event:
        place = venue(title, point) if point else None
        interests = fields.pop("interests", [])
        created = Event.objects.create(
            host=host,
            title=title,
            description=fields.pop("description", ""),
            venue=place,
            latitude=point[0] if point else None,
            longitude=point[1] if point else None,
            online_url="" if point else "https://example.com",
            starts_at=now + timedelta(days=days),
            ends_at=now + timedelta(days=days, hours=2),
            capacity=10,
            status=fields.pop("status", sm.PUBLISHED),
            **fields,
        )
        created.interests.set(interests)
        return created

    return {
        "jazz": event(
            "Jazz in the garden", CAPE_TOWN, 1, interests=[music], description="Saxophone quartet"
        ),
        "wine": event(
            "Wine tasting", STELLENBOSCH, 2, interests=[food], price_minor=25000, currency="ZAR"
        ),
        "rock": event(
            "Rock concert", JOBURG, 3, interests=[music], price_minor=9900, currency="ZAR"
        ),
        "online": event("Online jazz workshop", None, 4, interests=[music]),
        "private": event("Private jazz dinner", CAPE_TOWN, 1, visibility="private"),
        "draft": event("Draft jazz", CAPE_TOWN, 1, status=sm.DRAFT),
        "past": event("Old jazz", CAPE_TOWN, -2),
        "music": music,
    }


def _titles(api: Any, query: str) -> list[str]:
    reply = api.get(f"/api/events?{query}")
    assert reply.status_code == 200, reply.json()
    return [item["title"] for item in reply.json()["data"]["items"]]


def test_text_search_finds_public_upcoming_events_only(
    world: dict[str, Any], guest_api: Any
) -> None:
    assert _titles(guest_api, "q=jazz") == ["Jazz in the garden", "Online jazz workshop"]
    assert _titles(guest_api, "q=saxophone") == ["Jazz in the garden"]


@pytest.mark.postgres
def test_a_misspelt_word_is_found_by_trigram_similarity(
    world: dict[str, Any], guest_api: Any
) -> None:
    assert _titles(guest_api, "q=jaz") == ["Jazz in the garden", "Online jazz workshop"]
    assert _titles(guest_api, "q=concer") == ["Rock concert"]


def test_distance_from_a_point(world: dict[str, Any], guest_api: Any) -> None:
    lat, lng = CAPE_TOWN
    assert _titles(guest_api, f"lat={lat}&lng={lng}&radiusKm=10") == ["Jazz in the garden"]
    assert _titles(guest_api, f"lat={lat}&lng={lng}&radiusKm=60") == [
        "Jazz in the garden",
        "Wine tasting",
    ]
    reply = guest_api.get(f"/api/events?lat={lat}&lng={lng}&radiusKm=60").json()["data"]["items"]
    assert 35 < reply[1]["distanceKm"] < 45


def test_interests_dates_price_and_free(world: dict[str, Any], guest_api: Any) -> None:
    music = world["music"].pk
    assert _titles(guest_api, f"interests={music}") == [
        "Jazz in the garden",
        "Rock concert",
        "Online jazz workshop",
    ]
    since = (timezone.now() + timedelta(days=1, hours=12)).isoformat().replace("+", "%2B")
    until = (timezone.now() + timedelta(days=3, hours=12)).isoformat().replace("+", "%2B")
    assert _titles(guest_api, f"from={since}&to={until}") == ["Wine tasting", "Rock concert"]
    assert _titles(guest_api, "free=true") == ["Jazz in the garden", "Online jazz workshop"]
    assert _titles(guest_api, "priceMin=50.00&priceMax=150&currency=ZAR") == ["Rock concert"]


def test_cursor_pages_walk_every_event_once(world: dict[str, Any], guest_api: Any) -> None:
    seen: list[str] = []
    cursor = ""
    while True:
        reply = guest_api.get(f"/api/events?pageSize=1{cursor}").json()["data"]
        seen += [item["title"] for item in reply["items"]]
        if not reply["nextCursor"]:
            break
        cursor = f"&cursor={reply['nextCursor']}"
    assert seen == ["Jazz in the garden", "Wine tasting", "Rock concert", "Online jazz workshop"]
    bad = guest_api.get("/api/events?cursor=bm90LWEtY3Vyc29y")
    assert bad.status_code == 422
    assert "cursor" in bad.json()["error"]["fields"]


def test_a_forged_or_altered_cursor_is_refused_and_shows_nothing(
    world: dict[str, Any], guest_api: Any
) -> None:
    first = guest_api.get("/api/events?pageSize=1").json()["data"]
    value, signature = first["nextCursor"].rsplit(".", 1)
    # A position chosen by the client, in the cursor's own format: before every event.
    chosen = base64.urlsafe_b64encode(
        f"|{(timezone.now() - timedelta(days=365)).isoformat()}|{uuid.UUID(int=0)}".encode()
    )
    chosen_text = chosen.rstrip(b"=").decode()
    capsule_cursor = cursor_sign(value, salt="tessera.capsules.box-cursor")
    forged = [
        chosen_text,  # unsigned, as cursors were
        f"{chosen_text}.{signature}",  # another position under a real signature
        f"{value}.{signature[:-1]}{'A' if signature[-1] != 'A' else 'B'}",  # signature altered
        capsule_cursor,  # signed for another list
        "bm90LWEtY3Vyc29y",
    ]

    for cursor in forged:
        reply = guest_api.get(f"/api/events?pageSize=1&cursor={cursor}")
        assert reply.status_code == 422, (cursor, reply.content)
        body = reply.json()
        assert body["error"]["code"] == "invalid_cursor"
        assert "cursor" in body["error"]["fields"]
        assert "data" not in body or body["data"] is None
    # The cursor as handed out still works.
    assert guest_api.get(f"/api/events?pageSize=1&cursor={first['nextCursor']}").status_code == 200


def test_a_page_costs_the_same_statements_whatever_its_size(
    world: dict[str, Any], guest_api: Any, settings: Any
) -> None:
    # Venues, hosts and interests come with the page; a field a reply shows but the page's
    # query does not select (selectors.EVENT_REPLY_FIELDS) would cost a statement per event.
    # Counted on pages built every time (a kept page costs no statement at all).
    settings.EVENTS_DISCOVERY_CACHE_SECONDS = 0
    from django.db import connection
    from django.test.utils import CaptureQueriesContext

    def statements(api: Any, path: str) -> int:
        api.get(path)  # the viewer's row and the like, cached or not, once before counting
        with CaptureQueriesContext(connection) as queries:
            reply = api.get(path)
        assert reply.status_code == 200, reply.json()
        return len(queries)

    assert statements(guest_api, "/api/events?pageSize=1") == statements(
        guest_api, "/api/events?pageSize=20"
    )
    lat, lng = CAPE_TOWN
    near = f"lat={lat}&lng={lng}&radiusKm=60"
    assert statements(guest_api, f"/api/events?{near}&pageSize=1") == statements(
        guest_api, f"/api/events?{near}&pageSize=20"
    )
    host_api = client_for(world["jazz"].host)
    assert statements(host_api, "/api/events/hosting?pageSize=1") == statements(
        host_api, "/api/events/hosting?pageSize=20"
    )


@pytest.mark.parametrize("few_matches", [1, 3, 100])
def test_words_give_the_same_pages_whether_they_match_few_events_or_many(
    world: dict[str, Any], guest_api: Any, settings: Any, monkeypatch: Any, few_matches: int
) -> None:
    # PostgreSQL reads few matches from the GIN index and sorts them, and walks the start
    # index for many (selectors._FEW_MATCHES); either way the pages are the same.
    from tessera.events import selectors

    settings.EVENTS_DISCOVERY_CACHE_SECONDS = 0
    monkeypatch.setattr(selectors, "_FEW_MATCHES", few_matches)
    seen: list[str] = []
    cursor = ""
    while True:
        reply = guest_api.get(f"/api/events?q=jazz&pageSize=1{cursor}").json()["data"]
        seen += [item["title"] for item in reply["items"]]
        if not reply["nextCursor"]:
            break
        cursor = f"&cursor={reply['nextCursor']}"
    assert seen == ["Jazz in the garden", "Online jazz workshop"]
    # Words no event has: none, then titles with a similar word (PostgreSQL) or nothing.
    assert _titles(guest_api, "q=rooftop+salsa") == []
