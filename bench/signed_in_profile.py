"""Where a signed-in read spends its time on the Django path (docs/decisions/0032).

    BENCH_DB_NAME=tessera_edge BENCH_REDIS_DB=2 .venv/bin/python bench/signed_in_profile.py \
        [--requests 3000]

In one process, with the production settings (config/localprod.py) on PostgreSQL and Redis,
calls the WSGI application `config/wsgi.py` builds (the edge in front of Django) for
`GET /api/ping`, `GET /api/auth/me` and the first inbox page (`GET /api/capsules`, 20 capsules
kept), each `--requests` times after a warm-up, measures the mean wall time per request and
profiles each loop with pyinstrument. Needs a migrated database (the auth or inbox bench
leaves one); adds a user and capsules of its own. Writes bench/results/signed-in-profile-
<stamp>.md (times, then pyinstrument's text tree per route). Not a test: nothing asserts.
"""

from __future__ import annotations

import argparse
import io
import os
import sys
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


def main() -> int:
    parser = argparse.ArgumentParser(description=__doc__.split("\n\n")[0])
    parser.add_argument("--requests", type=int, default=3000)
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
        )
    )
    import django

    django.setup()
    import orjson
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
            f"{redis_db}; {args.requests} requests per route after 200 warm-up requests; the "
            "WSGI application of config/wsgi.py. Wall time on a shared 2-core machine: compare "
            "the routes with each other, not with other runs."
        ),
        "",
        "| route | mean µs per request | status |",
        "|---|---|---|",
    ]
    trees = []
    for name, (path, query, meta) in routes.items():
        for _ in range(200):
            status, _body = call(application, path, query, **meta)
        started = time.perf_counter()
        for _ in range(args.requests):
            call(application, path, query, **meta)
        mean = (time.perf_counter() - started) / args.requests * 1e6
        profiler = Profiler(interval=0.0002)
        profiler.start()
        for _ in range(args.requests):
            call(application, path, query, **meta)
        profiler.stop()
        lines.append(f"| {name} | {mean:.0f} | {status} |")
        trees.append(f"\n## {name}\n\n```\n{profiler.output_text(unicode=False, color=False)}```\n")
        print(f"{name}: {mean:.0f} µs per request ({status})", flush=True)
    stamp = datetime.now(tz=UTC).strftime("%Y%m%dT%H%M%SZ")
    RESULTS.mkdir(parents=True, exist_ok=True)
    path = RESULTS / f"signed-in-profile-{stamp}.md"
    path.write_text("\n".join(lines) + "\n" + "".join(trees))
    print(f"results: {path}")
    return 0


if __name__ == "__main__":
    sys.exit(main())
