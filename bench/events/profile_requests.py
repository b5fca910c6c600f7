"""Where a discovery request and a door scan spend their time, in one process (pyinstrument).

    .venv/bin/python bench/events/profile_requests.py --database tessera_bench_events \
        [--requests 200] [--what discovery|checkin|both] [--flat]

Needs a database seeded by `bench/events/run.py --keep-database` (100,000 events). Runs the
benchmark's discovery request and fresh door scans through Django's full request path
(middleware, bearer auth, Ninja, the reply's JSON) with production settings, prints the
mean time per request, the SQL statements per request, and pyinstrument's call tree.
pyinstrument is not a project dependency: `uv pip install pyinstrument` into the venv.
"""

from __future__ import annotations

import argparse
import json
import os
import sys
import time
import uuid
from datetime import UTC, datetime, timedelta
from pathlib import Path

REPO = Path(__file__).resolve().parents[2]
sys.path.insert(0, str(REPO))


def main() -> int:  # noqa: PLR0915 - one linear script
    parser = argparse.ArgumentParser(description=__doc__.split("\n\n")[0])
    parser.add_argument("--database", default="tessera_bench_events")
    parser.add_argument("--redis-db", type=int, default=5)
    parser.add_argument("--requests", type=int, default=200)
    parser.add_argument("--what", choices=("discovery", "checkin", "both"), default="both")
    parser.add_argument("--query", default="", help="discovery query string (default: seed's)")
    parser.add_argument("--flat", action="store_true", help="cProfile, functions by own time")
    parser.add_argument(
        "--no-profile", action="store_true", help="time and CPU per request only, no profiler"
    )
    args = parser.parse_args()

    from config.localprod import production_env

    os.environ.update(
        production_env(
            DATABASE_URL=f"postgresql://postgres@127.0.0.1:5432/{args.database}",
            REDIS_URL=f"redis://127.0.0.1:6379/{args.redis_db}",
            CELERY_BROKER_URL=f"redis://127.0.0.1:6379/{args.redis_db}",
            CELERY_TASK_ALWAYS_EAGER="true",
            RATE_LIMIT_DEFAULT="100000000/minute",
            LOG_LEVEL="WARNING",
        )
    )
    import django

    django.setup()
    from django.db import connection, reset_queries
    from django.test import Client
    from django.test.utils import CaptureQueriesContext
    from pyinstrument import Profiler

    if args.no_profile:

        class Off:  # no profiler: the figures without its overhead
            def __init__(self, interval: float = 0) -> None:
                pass

            def __enter__(self) -> None:
                pass

            def __exit__(self, *exc: object) -> None:
                pass

            def output_text(self, **kwargs: object) -> str:
                return ""

        Profiler = Off  # type: ignore[misc,assignment]  # noqa: N806
    elif args.flat:
        import cProfile
        import pstats

        class Flat:  # the same interface as pyinstrument's, over cProfile
            def __init__(self, interval: float = 0) -> None:
                self.profile = cProfile.Profile(time.thread_time)  # CPU: the machine is shared

            def __enter__(self) -> None:
                self.profile.enable()

            def __exit__(self, *exc: object) -> None:
                self.profile.disable()

            def output_text(self, **kwargs: object) -> str:
                import io

                out = io.StringIO()
                pstats.Stats(self.profile, stream=out).sort_stats(
                    os.environ.get("PROFILE_SORT", "tottime")
                ).print_stats(45)
                return out.getvalue()

        Profiler = Flat  # type: ignore[misc,assignment]  # noqa: N806

    sys.path.insert(0, str(REPO / "bench" / "events"))
    import seed as bench_seed

    from tessera.accounts.models import User
    from tessera.accounts.services import session_start
    from tessera.accounts.tokens import access_token_issue

    client = Client()
    if args.what in ("discovery", "both"):
        searcher = User.objects.get(email="searcher@bench.local")
        # With a session, as a login gives and as the bench's searcher signs in (0038).
        token = session_start(user=searcher, method="password").access_token
        auth = {"HTTP_AUTHORIZATION": f"Bearer {token}"}
        url = f"/api/events?{args.query or bench_seed.discovery_query()}"
        first = client.get(url, **auth)
        print(url, first.status_code, len(json.loads(first.content)["data"]["items"]), "items")
        with CaptureQueriesContext(connection) as queries:
            client.get(url, **auth)
        print(f"SQL statements per discovery request: {len(queries)}")
        for q in queries:
            print(f"  {q['time']} s  {q['sql'][:160]}")
        reset_queries()
        for _ in range(20):  # warm: the statement's plan, the pool, the first-use imports
            client.get(url, **auth)
        profiler = Profiler(interval=0.0005)
        began, cpu_began = time.perf_counter(), time.thread_time()
        with profiler:
            for _ in range(args.requests):
                client.get(url, **auth)
        took = (time.perf_counter() - began) / args.requests * 1000
        cpu = (time.thread_time() - cpu_began) / args.requests * 1000
        print(f"discovery: {took:.2f} ms, {cpu:.2f} ms CPU per request over {args.requests}")
        print(profiler.output_text(unicode=False, color=False, show_all=False))

    if args.what in ("checkin", "both"):
        # A new host: the seeded one's private key is encrypted under the bench run's secret.
        tag = f"p{uuid.uuid4().hex[:8]}-"
        host = User.objects.create_user(email=f"{tag}host@bench.local", password=None)
        event, secrets = bench_seed.seed_door(host, args.requests, tag=tag)
        auth = {"HTTP_AUTHORIZATION": f"Bearer {access_token_issue(user=host)}"}
        path = f"/api/events/{event.pk}/checkins"

        def body(secret: str) -> str:
            at = datetime.now(tz=UTC) - timedelta(seconds=1)
            return json.dumps(
                {"ticket": secret, "nonce": uuid.uuid4().hex, "scannedAt": at.isoformat()}
            )

        warm = client.post(path, body(secrets[0]), content_type="application/json", **auth)
        print("first scan", warm.status_code, warm.content[:120])
        with CaptureQueriesContext(connection) as queries:
            client.post(path, body(secrets[1]), content_type="application/json", **auth)
        print(f"SQL statements per scan: {len(queries)}")
        for q in queries:
            print(f"  {q['time']} s  {q['sql'][:160]}")
        profiler = Profiler(interval=0.0005)
        began = time.perf_counter()
        with profiler:
            for secret in secrets[2:]:
                response = client.post(path, body(secret), content_type="application/json", **auth)
                if response.status_code != 200:
                    raise SystemExit(f"scan refused: {response.content!r}")
        took = (time.perf_counter() - began) / max(1, len(secrets) - 2) * 1000
        print(f"check-in: {took:.2f} ms per scan over {len(secrets) - 2}")
        print(profiler.output_text(unicode=False, color=False, show_all=False))
    return 0


if __name__ == "__main__":
    sys.exit(main())
