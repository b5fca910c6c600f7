"""Seed the events benchmark (run by bench/events/run.py inside the bench's environment).

    python bench/events/seed.py OUT.json --events 100000 --tickets 2000

- `--events` public, published events spread over 8 cities (within ~60 km of each centre),
  starting over the next 120 days, titles and descriptions from a small vocabulary
  (`INSERT … SELECT generate_series`), then ANALYZE;
- one door event with `--tickets` valid tickets signed by its host's key, and their secrets;
- the host's access token, and a searcher's from a session (as a login gives);
- `EXPLAIN (ANALYZE, BUFFERS)` of the discovery query the benchmark sends.
"""

from __future__ import annotations

import json
import os
import sys
from datetime import timedelta
from pathlib import Path

REPO = Path(__file__).resolve().parents[2]
sys.path.insert(0, str(REPO))
os.environ.setdefault("DJANGO_SETTINGS_MODULE", "config.settings.prod")

import django  # noqa: E402

django.setup()

from corpus import CITIES, WORDS  # noqa: E402  (bench/events/, this script's directory)
from django.db import connection  # noqa: E402
from django.utils import timezone  # noqa: E402

from tessera.accounts.models import User  # noqa: E402
from tessera.accounts.services import session_start  # noqa: E402
from tessera.accounts.tokens import access_token_issue  # noqa: E402
from tessera.events import selectors, services  # noqa: E402
from tessera.events import statemachine as sm  # noqa: E402
from tessera.events.models import Attendance, Event, JoinRequest, Ticket  # noqa: E402

SEARCH = {"q": "jazz", "city": 0, "radius_km": 25, "days": 30}


def seed_events(host: User, count: int) -> None:
    now = timezone.now()
    words = "ARRAY[" + ",".join(f"'{w}'" for w in WORDS) + "]"
    lats = "ARRAY[" + ",".join(str(c[0]) for c in CITIES) + "]"
    lngs = "ARRAY[" + ",".join(str(c[1]) for c in CITIES) + "]"
    with connection.cursor() as cursor:
        cursor.execute(
            f"""
            INSERT INTO events_event (
                id, created_at, updated_at, host_id, title, description, online_url,
                latitude, longitude, starts_at, ends_at, timezone, capacity, places_taken,
                price_minor, currency, visibility, requires_approval, status, published_at
            )
            SELECT gen_random_uuid(), %(now)s, %(now)s, %(host)s,
                   initcap(w[1 + (i * 7) %% 30] || ' ' || w[1 + (i * 13) %% 30] || ' ' || i),
                   'A ' || w[1 + (i * 3) %% 30] || ' and ' || w[1 + (i * 11) %% 30] || ' evening',
                   '',
                   lat[1 + i %% 8] + (random() - 0.5) * 1.0,
                   lng[1 + i %% 8] + (random() - 0.5) * 1.0,
                   %(now)s + (i %% 120) * interval '1 day' + (i %% 24) * interval '1 hour',
                   %(now)s + (i %% 120) * interval '1 day' + (i %% 24 + 3) * interval '1 hour',
                   'UTC', 100, 0,
                   CASE WHEN i %% 4 = 0 THEN 15000 ELSE 0 END,
                   CASE WHEN i %% 4 = 0 THEN 'ZAR' ELSE '' END,
                   'public', false, 'published', %(now)s
            FROM generate_series(1, %(count)s) AS i,
                 (SELECT {words} AS w, {lats} AS lat, {lngs} AS lng) AS v
            """,  # noqa: S608 - literals written above
            {"now": now + timedelta(hours=1), "host": host.pk, "count": count},
        )
        cursor.execute("ANALYZE events_event")


def seed_door(host: User, count: int, tag: str = "door") -> tuple[Event, list[str]]:
    now = timezone.now()
    event = services.event_create(
        host=host,
        title="Door burst",
        starts_at=now + timedelta(hours=2),
        ends_at=now + timedelta(hours=6),
        capacity=count,
        online_url="https://example.com",
        requires_approval=False,
    )
    services.event_publish(host=host, event_id=event.pk)
    key = services.organiser_active_key(host)
    guests = User.objects.bulk_create(
        [User(email=f"{tag}{i}@bench.local", name=f"Guest {i}") for i in range(count)]
    )
    requests = JoinRequest.objects.bulk_create(
        [JoinRequest(event=event, user=g, status=sm.ACCEPTED, decided_at=now) for g in guests]
    )
    tickets = Ticket.objects.bulk_create(
        [
            Ticket(
                event=event, holder=g, request=r, status=sm.VALID, code=f"B{i:07d}"[-8:],
                key_id=key.key_id, issued_at=now, confirmed_at=now,
            )
            for i, (g, r) in enumerate(zip(guests, requests, strict=True))
        ]
    )  # fmt: skip
    # As a confirmed place leaves it (services.tickets._confirmed): the holder is going.
    Attendance.objects.bulk_create(
        [Attendance(event=event, user=g, status=sm.GOING) for g in guests]
    )
    Event.objects.filter(pk=event.pk).update(places_taken=count)
    secrets = [
        selectors.ticket_secret(Ticket.objects.select_related("event").get(pk=t.pk))
        for t in tickets
    ]
    return event, secrets


def discovery_query() -> str:
    lat, lng = CITIES[SEARCH["city"]]
    since = timezone.now().replace(microsecond=0)
    until = since + timedelta(days=SEARCH["days"])
    q = str(SEARCH["q"]).replace(" ", "+")
    return (
        f"q={q}&lat={lat}&lng={lng}&radiusKm={SEARCH['radius_km']}"
        f"&from={since.isoformat().replace('+00:00', 'Z')}"
        f"&to={until.isoformat().replace('+00:00', 'Z')}"
    )


def explain(query: str) -> list[dict[str, str]]:
    from urllib.parse import parse_qs

    from django.utils.dateparse import parse_datetime

    params = {k: v[0] for k, v in parse_qs(query).items()}
    d = selectors.Discovery(
        text=params["q"],
        latitude=float(params["lat"]),
        longitude=float(params["lng"]),
        radius_km=float(params["radiusKm"]),
        starts_after=parse_datetime(params["from"]),
        starts_before=parse_datetime(params["to"]),
    )
    plans = []
    captured: list[str] = []

    def capture(execute, sql, params, many, context):  # type: ignore[no-untyped-def]
        captured.append(str(connection.cursor().mogrify(sql, params)) if params else sql)
        return execute(sql, params, many, context)

    with connection.execute_wrapper(capture):
        selectors.event_discover(d)
    for sql in captured:
        with connection.cursor() as cursor:
            cursor.execute(f"EXPLAIN (ANALYZE, BUFFERS) {sql}")
            plans.append({"sql": sql, "plan": "\n".join(row[0] for row in cursor.fetchall())})
    return plans


def main() -> None:
    out = Path(sys.argv[1])
    events = int(sys.argv[sys.argv.index("--events") + 1]) if "--events" in sys.argv else 100_000
    tickets = int(sys.argv[sys.argv.index("--tickets") + 1]) if "--tickets" in sys.argv else 2000
    host = User.objects.create_user(email="host@bench.local", password=None, name="Host")
    searcher = User.objects.create_user(email="searcher@bench.local", password=None)
    seed_events(host, events)
    door, secrets = seed_door(host, tickets)
    query = discovery_query()
    out.write_text(
        json.dumps(
            {
                "host_token": access_token_issue(user=host),
                # A signed-in client's token (with its session, as a login gives): its user
                # comes from the session cache, read with the kept page (decision 0037).
                "searcher_token": session_start(user=searcher, method="password").access_token,
                "door_event": str(door.pk),
                "secrets": secrets,
                "discovery_query": query,
                "events": Event.objects.count(),
                "explain": explain(query),
            }
        )
    )


if __name__ == "__main__":
    main()
