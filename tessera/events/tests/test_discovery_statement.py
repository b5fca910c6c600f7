"""Discovery's compiled statement (PostgreSQL, docs/decisions/0040) gives the very bytes the
ORM's path gives, for every kind of item and search: public and private covers (signed
links), venue or online, interests in English and Arabic (an inactive one hidden), free and
priced (2 and 0 decimals), distance only with a point, next cursors, the similar-word
fallback, both languages of the request."""

from __future__ import annotations

import types
import uuid
from datetime import timedelta
from typing import Any

import pytest
from django.core import signing
from django.utils import timezone

from tessera.accounts.models import EventInterest
from tessera.events import selectors
from tessera.events import statemachine as sm
from tessera.events.models import Event, Venue
from tessera.events.tests.conftest import client_for, make_user
from tessera.files.models import FileVariant, StoredFile

pytestmark = [pytest.mark.django_db, pytest.mark.postgres]

CAPE_TOWN = (-33.9249, 18.4241)
STELLENBOSCH = (-33.9321, 18.8602)


def _cover(owner: Any, *, public: bool, ready: bool = True) -> StoredFile:
    key = uuid.uuid4().hex
    stored = StoredFile.objects.create(
        owner=owner,
        purpose="event_cover",
        visibility="public" if public else "private",
        status="ready" if ready else "processing",
        storage_key=f"covers/{key}.jpg",
        original_name="Cover photo.jpg",
        content_type="image/jpeg",
        size=1234,
        sha256="0" * 64,
        width=1600,
        height=900,
    )
    if ready:
        FileVariant.objects.create(
            file=stored,
            name="thumbnail",
            storage_key=f"covers/{key}-t.webp",
            content_type="image/webp",
            size=99,
            width=256,
            height=144,
        )
    return stored


@pytest.fixture
def world(db: Any, settings: Any) -> dict[str, Any]:
    settings.MONEY_CURRENCIES = ["ZAR", "JPY"]
    now = timezone.now().replace(microsecond=123456)
    host = make_user("statement-host@example.com", name='Hana "the host" \\ حنان')
    music = EventInterest.objects.create(slug="music-s", name="Music", name_ar="موسيقى", position=2)
    art = EventInterest.objects.create(slug="art-s", name="Art", name_ar="فن", position=2)
    food = EventInterest.objects.create(slug="food-s", name="Food", name_ar="طعام", position=1)
    gone = EventInterest.objects.create(slug="gone-s", name="Gone", is_active=False)
    venue = Venue.objects.create(
        owner=host, name="Garden\nstage", address="1 Long St", latitude=CAPE_TOWN[0],
        longitude=CAPE_TOWN[1], capacity=300,
    )  # fmt: skip
    far = Venue.objects.create(
        owner=host, name="Farm", latitude=STELLENBOSCH[0], longitude=STELLENBOSCH[1]
    )

    def event(title: str, days: int, **fields: Any) -> Event:
        interests = fields.pop("interests", [])
        place = fields.pop("venue", None)
        created = Event.objects.create(
            host=host,
            title=title,
            description=fields.pop("description", "Saxophone \x1f quartet 🎷 «jazz»"),
            venue=place,
            latitude=place.latitude if place else None,
            longitude=place.longitude if place else None,
            online_url="" if place else "https://example.com/live?a=1&b=2",
            starts_at=now + timedelta(days=days, seconds=days),
            ends_at=now + timedelta(days=days, hours=2),
            timezone="Africa/Johannesburg",
            capacity=fields.pop("capacity", 10),
            status=fields.pop("status", sm.PUBLISHED),
            **fields,
        )
        created.interests.set(interests)
        return created

    event("Jazz in the garden", 1, venue=venue, interests=[music, art, food, gone])
    event(
        "Jazz wine tasting", 2, venue=far, interests=[food], price_minor=25050, currency="ZAR",
        cover=_cover(host, public=True),
    )  # fmt: skip
    event("Online jazz workshop", 3, cover=_cover(host, public=False), places_taken=10)
    event("Jazz in Tokyo", 4, price_minor=1500, currency="JPY", cover=_cover(host, public=False))
    event("Jazz still processing", 5, venue=venue, cover=_cover(host, public=True, ready=False))
    event("Jazz at noon", 6, venue=venue, description="", requires_approval=False)
    event("Private jazz dinner", 1, venue=venue, visibility="private")
    event("Draft jazz", 1, venue=venue, status=sm.DRAFT)
    return {"music": music, "food": food, "host": host, "now": now}


def _body(api: Any, query: str, **headers: Any) -> bytes:
    reply = api.get(f"/api/events?{query}", **headers)
    assert reply.status_code == 200, reply.content
    # The envelope around the page ends with its own timestamp.
    return bytes(reply.content.rsplit(b',"message"', 1)[0])


def _both(api: Any, query: str, monkeypatch: Any, **headers: Any) -> tuple[bytes, bytes]:
    compiled = _body(api, query, **headers)
    with monkeypatch.context() as m:
        m.setattr(selectors, "COMPILED_ON", frozenset())
        built = _body(api, query, **headers)
    return compiled, built


def test_the_compiled_statement_gives_the_orm_pages_byte_for_byte(
    world: dict[str, Any], monkeypatch: Any, settings: Any
) -> None:
    settings.EVENTS_DISCOVERY_CACHE_SECONDS = 0
    settings.REQUEST_RATE_LIMITS_ENABLED = False  # ~90 requests from one address
    now = world["now"]
    # Signed links and their `urlExpiresAt` depend on the clock: one clock for both paths.
    monkeypatch.setattr(selectors.timezone, "now", lambda: now)
    monkeypatch.setattr(signing, "time", types.SimpleNamespace(time=now.timestamp))
    api = client_for(make_user("statement-guest@example.com"))
    lat, lng = CAPE_TOWN
    since = (now + timedelta(days=1, hours=12)).isoformat().replace("+", "%2B")
    until = (now + timedelta(days=5, hours=12)).isoformat().replace("+", "%2B")
    queries = [
        "",
        "q=jazz",
        "q=jaz",  # no event has the word: titles with a similar word
        "q=saxophone",
        f"lat={lat}&lng={lng}&radiusKm=60",
        f"lat={lat}&lng={lng}&radiusKm=60&q=jazz&from={since}&to={until}",
        f"lat={lat}&lng=179.99&radiusKm=400",  # a box across the antimeridian
        f"interests={world['music'].pk}&interests={world['food'].pk}",
        "free=true",
        "priceMin=100&priceMax=300.00&currency=ZAR",
        "priceMin=1000&currency=JPY",
        "priceMax=0.5&currency=ZAR",
    ]
    for query in queries:
        for headers in ({}, {"HTTP_ACCEPT_LANGUAGE": "ar"}):
            compiled, built = _both(api, query, monkeypatch, **headers)
            assert compiled == built, query
    seen = 0
    for query in ("pageSize=2", "q=jazz&pageSize=1", f"lat={lat}&lng={lng}&radiusKm=60&pageSize=1"):
        cursor = ""
        while True:
            compiled, built = _both(api, f"{query}{cursor}", monkeypatch)
            assert compiled == built, (query, cursor)
            page = api.get(f"/api/events?{query}{cursor}").json()["data"]
            seen += len(page["items"])
            if not page["nextCursor"]:
                break
            cursor = f"&cursor={page['nextCursor']}"
    # What the pages hold: every shape of item was compared above.
    items = api.get("/api/events").json()["data"]["items"]
    assert [i["title"] for i in items] == [
        "Jazz in the garden",
        "Jazz wine tasting",
        "Online jazz workshop",
        "Jazz in Tokyo",
        "Jazz still processing",
        "Jazz at noon",
    ]
    assert [i["name"] for i in items[0]["interests"]] == ["Food", "Art", "Music"]
    assert items[0]["interests"][0]["nameAr"] == "طعام"
    assert items[1]["price"] == {"amount": "250.50", "currency": "ZAR"}
    assert items[3]["price"] == {"amount": "1500", "currency": "JPY"}
    assert items[1]["cover"]["url"]
    assert items[1]["cover"]["urlExpiresAt"] is None
    assert items[2]["cover"]["urlExpiresAt"] is not None  # private: a signed link
    assert items[2]["placesLeft"] == 0
    assert items[4]["cover"]["url"] is None
    assert items[2]["venue"] is None
    assert items[0]["venue"]["name"] == "Garden\nstage"
    assert all(i["distanceKm"] is None for i in items)
    near = api.get(f"/api/events?lat={lat}&lng={lng}&radiusKm=60").json()["data"]["items"]
    assert near[0]["distanceKm"] == 0.0
    assert 35 < near[1]["distanceKm"] < 45
    assert seen == 6 + 6 + 4  # the 60 km pages: the garden's three and the farm's one


def test_a_page_is_one_statement_and_one_more_for_its_covers(
    world: dict[str, Any], settings: Any
) -> None:
    from django.db import connection
    from django.test.utils import CaptureQueriesContext

    settings.EVENTS_DISCOVERY_CACHE_SECONDS = 0
    api = client_for(make_user("statement-counter@example.com"))

    def statements(path: str) -> int:
        api.get(path)  # the viewer's row and the like, once before counting
        with CaptureQueriesContext(connection) as queries:
            assert api.get(path).status_code == 200
        # Not the viewer's row (this token has no session to read it from).
        return len([q for q in queries if not q["sql"].startswith('SELECT "accounts_user"')])

    assert statements(f"/api/events?interests={world['music'].pk}") == 1  # no cover
    # With covers: their files, then the files' variants.
    assert statements("/api/events") == 3
