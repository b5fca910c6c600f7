"""Where a signed-in read spends its time on the Django path (docs/decisions/0032).

    BENCH_DB_NAME=tessera_edge BENCH_REDIS_DB=2 .venv/bin/python bench/signed_in_profile.py \
        [--requests 3000] [--no-profile] > /dev/null

In one process, with the production settings (config/localprod.py) on PostgreSQL and Redis,
calls the WSGI application `config/wsgi.py` builds (the edge in front of Django) for
`GET /api/ping`, `GET /api/auth/me` and the first inbox page (`GET /api/capsules`, 20 capsules
kept), each `--requests` times after a warm-up, timing every request (wall time, and the
thread's CPU time, which waiting on Redis or PostgreSQL does not count and a loaded machine
inflates less) and counting the Redis commands sent; the routes take turns
in blocks of 100 requests, so a burst of load from elsewhere on a shared machine falls on all
of them. Reports the median, 90th percentile and mean wall time per request, then profiles
another `--requests` of each with pyinstrument (unless `--no-profile`). Needs a migrated
database (the auth or inbox bench leaves one); adds a user and capsules of its own. The
access log goes to stdout as in production (send it to /dev/null, or a file: a terminal
makes its write the largest cost); progress and results go to stderr. Writes
bench/results/signed-in-profile-<stamp>.md (times, then pyinstrument's text tree per route).
Not a test: nothing asserts.
"""

from __future__ import annotations

import argparse
import io
import os
import statistics
import sys
import tempfile
import time
from datetime import UTC, datetime
from pathlib import Path
from typing import Any

REPO = Path(__file__).resolve().parents[1]
sys.path.insert(0, str(REPO))

from config.localprod import production_env  # noqa: E402

RESULTS = REPO / "bench" / "results"
EMAIL, PASSWORD = "profile@example.com", "a long profiling password"


def call(
    app: Any, path: str, query: str = "", method: str = "GET", **meta: str
) -> tuple[str, bytes]:
    environ: dict[str, Any] = {
        "REQUEST_METHOD": method,
        "PATH_INFO": path,
        "QUERY_STRING": query,
        "SERVER_NAME": "127.0.0.1",
        "SERVER_PORT": "80",
        "HTTP_HOST": "127.0.0.1",
        "REMOTE_ADDR": "127.0.0.1",
        "SERVER_PROTOCOL": "HTTP/1.1",
        "wsgi.input": io.BytesIO(meta.pop("body", "").encode()),
        "wsgi.errors": io.StringIO(),
        "wsgi.url_scheme": "http",
        "wsgi.version": (1, 0),
        "wsgi.multithread": True,
        "wsgi.multiprocess": True,
        "wsgi.run_once": False,
        **meta,
    }
    started: list[str] = []
    chunks = app(environ, lambda status, _headers, *_: started.append(status))
    body = b"".join(chunks)
    if hasattr(chunks, "close"):
        chunks.close()
    return started[0], body


def main() -> int:  # noqa: PLR0915 - one linear script
    parser = argparse.ArgumentParser(description=__doc__.split("\n\n")[0])
    parser.add_argument("--requests", type=int, default=3000)
    parser.add_argument("--no-profile", action="store_true", help="times only")
    args = parser.parse_args()
    database = os.environ.get("BENCH_DB_NAME", "tessera_bench_auth")
    redis_db = os.environ.get("BENCH_REDIS_DB", "12")
    os.environ.update(
        production_env(
            DATABASE_URL=f"postgresql://postgres@127.0.0.1:5432/{database}",
            REDIS_URL=f"redis://127.0.0.1:6379/{redis_db}",
            RATE_LIMIT_DEFAULT="100000000/minute",
            AUTH_LOGIN_RATE="100000000/minute",
            LOG_LEVEL="WARNING",
            TESSERA_VAR_DIR=tempfile.mkdtemp(prefix="tessera-signed-in-profile-"),
        )
    )
    import django

    django.setup()
    import orjson
    import redis.connection
    from pyinstrument import Profiler

    from config.wsgi import application
    from tessera.accounts.models import User
    from tessera.capsules.tests.factories import make_capsule

    user = User.objects.filter(email=EMAIL).first()
    if user is None:
        user = User.objects.create_user(email=EMAIL, password=PASSWORD, name="Profile")
        sender = User.objects.create_user(email="sender-" + EMAIL, password=PASSWORD, name="S")
        for _ in range(20):
            make_capsule(sender=sender, receiver=user)
    body = orjson.dumps({"email": EMAIL, "password": PASSWORD}).decode()
    status, reply = call(
        application,
        "/api/auth/login",
        method="POST",
        body=body,
        CONTENT_TYPE="application/json",
        CONTENT_LENGTH=str(len(body)),
    )
    if not status.startswith("200"):
        raise SystemExit(f"login failed: {status} {reply!r}")
    token = orjson.loads(reply)["data"]["accessToken"]
    auth = {"HTTP_AUTHORIZATION": f"Bearer {token}"}
    routes = {
        "GET /api/ping": ("/api/ping", "", {}),
        "GET /api/auth/me": ("/api/auth/me", "", auth),
        "GET /api/capsules?box=inbox": ("/api/capsules", "box=inbox", auth),
    }
    lines = [
        f"# Signed-in reads on the Django path, in process ({datetime.now(tz=UTC):%Y-%m-%d %H:%M})",
        "",
        (
            f"`{' '.join(sys.argv)}`; production settings, PostgreSQL `{database}`, Redis db "
            f"{redis_db}; {args.requests} requests per route after 200 warm-up requests, the "
            "routes taking turns by 100; the WSGI application of config/wsgi.py. Wall time on "
            "a shared 2-core machine (load average at start "
            f"{', '.join(f'{x:.2f}' for x in os.getloadavg())}): compare the routes with each "
            "other, not with other runs."
        ),
        "",
        "| route | median µs | p90 µs | mean µs | CPU µs (median) | Redis commands | status |",
        "|---|---|---|---|---|---|---|",
    ]
    # Redis commands sent (pipelines count once: one round trip each).
    sent = [0]
    send = redis.connection.AbstractConnection.send_packed_command

    def counting_send(self: Any, *args: Any, **kwargs: Any) -> Any:
        sent[0] += 1
        return send(self, *args, **kwargs)

    redis.connection.AbstractConnection.send_packed_command = counting_send  # type: ignore[method-assign]
    statuses: dict[str, str] = {}
    for name, (path, query, meta) in routes.items():
        for _ in range(200):
            statuses[name], _body = call(application, path, query, **meta)
    timings: dict[str, list[float]] = {name: [] for name in routes}
    cpu: dict[str, list[float]] = {name: [] for name in routes}
    commands = dict.fromkeys(routes, 0)
    clock, cpu_clock = time.perf_counter, time.thread_time
    block = 100
    for _round in range(max(1, args.requests // block)):
        for name, (path, query, meta) in routes.items():
            spent, spent_cpu = timings[name], cpu[name]
            sent_before = sent[0]
            for _ in range(block):
                started, started_cpu = clock(), cpu_clock()
                call(application, path, query, **meta)
                spent.append((clock() - started) * 1e6)
                spent_cpu.append((cpu_clock() - started_cpu) * 1e6)
            commands[name] += sent[0] - sent_before
    for name, spent in timings.items():
        median = statistics.median(spent)
        p90 = statistics.quantiles(spent, n=10)[-1]
        mean = statistics.fmean(spent)
        median_cpu = statistics.median(cpu[name])
        per_request = commands[name] / len(spent)
        lines.append(
            f"| {name} | {median:.0f} | {p90:.0f} | {mean:.0f} | {median_cpu:.0f} | "
            f"{per_request:.2f} | {statuses[name]} |"
        )
        print(
            f"{name}: median {median:.0f} µs, p90 {p90:.0f}, mean {mean:.0f}, "
            f"CPU {median_cpu:.0f} µs, {per_request:.2f} Redis commands",
            file=sys.stderr,
        )
    trees = []
    for name, (path, query, meta) in routes.items():
        if args.no_profile:
            break
        profiler = Profiler(interval=0.0002)
        profiler.start()
        for _ in range(args.requests):
            call(application, path, query, **meta)
        profiler.stop()
        trees.append(f"\n## {name}\n\n```\n{profiler.output_text(unicode=False, color=False)}```\n")
    stamp = datetime.now(tz=UTC).strftime("%Y%m%dT%H%M%SZ")
    RESULTS.mkdir(parents=True, exist_ok=True)
    path = RESULTS / f"signed-in-profile-{stamp}.md"
    path.write_text("\n".join(lines) + "\n" + "".join(trees))
    print(f"results: {path}", file=sys.stderr)
    return 0


if __name__ == "__main__":
    sys.exit(main())
