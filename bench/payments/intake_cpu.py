"""CPU of one webhook intake, measured in process: no server, no load generator.

    .venv/bin/python bench/payments/intake_cpu.py [--requests 2000] [--warm 300]
        [--profile cprofile|pyinstrument|none] [--top 40]

Production settings (config.settings.prod through `config.localprod.production_env`) on
PostgreSQL, the Redis cache and the RabbitMQ broker, as `run.py`'s intake phase has them
(rate limits off, INFO logs). Each request is a new validly signed `POST /webhooks/sandbox`
(`run.signed_file`, the bodies the wrk bench posts), sent through `config.wsgi.application`
with a WSGI environ: the real middleware chain, the view, the commit, the drain scheduling
after it. Reports `time.process_time()` per request (this process's CPU, user + system, so a
second engineer's load on the machine does not count), then a profile of a second run.

Uses only its own names: database `tessera_h1_intake_cpu` (dropped and re-created), Redis
database 7, RabbitMQ vhost `tessera_h1` (purged at the end). The access log lines go to
/dev/null (written all the same). Not a test: no assertion on time.
"""

from __future__ import annotations

import argparse
import io
import os
import statistics
import subprocess
import sys
import tempfile
import time
from pathlib import Path
from typing import Any

REPO = Path(__file__).resolve().parents[2]
sys.path.insert(0, str(REPO))
sys.path.insert(0, str(REPO / "bench"))
sys.path.insert(0, str(Path(__file__).resolve().parent))

from config.localprod import production_env  # noqa: E402

PG = "postgresql://postgres@127.0.0.1:5432"
DB = "tessera_h1_intake_cpu"
REDIS = "redis://127.0.0.1:6379/7"
BROKER = "amqp://guest:guest@127.0.0.1:5672/tessera_h1"


def psql(sql: str) -> None:
    subprocess.run(["psql", f"{PG}/postgres", "-v", "ON_ERROR_STOP=1", "-qc", sql], check=True)


def environment() -> dict[str, str]:
    static = Path(tempfile.mkdtemp(prefix="intake-cpu-"))
    return production_env(
        DATABASE_URL=f"{PG}/{DB}",
        REDIS_URL=REDIS,
        CELERY_BROKER_URL=BROKER,
        RATE_LIMIT_ENABLED="false",
        LOG_LEVEL="INFO",
        STATIC_ROOT=str(static),
        TESSERA_VAR_DIR=str(static / "var"),
        DB_POOL_MAX_SIZE="8",
    )


def deliveries(count: int) -> list[tuple[str, bytes]]:
    from run import signed_file  # bench/payments/run.py: the wrk bench's own bodies

    path = signed_file(Path(tempfile.mkdtemp(prefix="intake-cpu-")) / "bodies.tsv", count)
    pairs = []
    for line in path.read_text().splitlines():
        signature, body = line.split("\t", 1)
        pairs.append((signature, body.encode()))
    return pairs


def environ(signature: str, body: bytes) -> dict[str, Any]:
    return {
        "REQUEST_METHOD": "POST",
        "PATH_INFO": "/webhooks/sandbox",
        "SCRIPT_NAME": "",
        "QUERY_STRING": "",
        "SERVER_NAME": "127.0.0.1",
        "SERVER_PORT": "19700",
        "SERVER_PROTOCOL": "HTTP/1.1",
        "REMOTE_ADDR": "127.0.0.1",
        "HTTP_HOST": "127.0.0.1:19700",
        "HTTP_USER_AGENT": "intake-cpu/1",
        "HTTP_ACCEPT": "*/*",
        "CONTENT_TYPE": "application/json",
        "CONTENT_LENGTH": str(len(body)),
        "HTTP_X_SIGNATURE": signature,
        "wsgi.input": io.BytesIO(body),
        "wsgi.errors": sys.stderr,
        "wsgi.url_scheme": "http",
        "wsgi.version": (1, 0),
        "wsgi.multithread": True,
        "wsgi.multiprocess": True,
        "wsgi.run_once": False,
    }


def send(application: Any, signature: str, body: bytes) -> str:
    status: list[str] = []

    def start_response(line: str, headers: Any, exc_info: Any = None) -> None:
        status.append(line)

    result = application(environ(signature, body), start_response)
    try:
        b"".join(result)
    finally:
        if hasattr(result, "close"):
            result.close()
    return status[0]


def measure(application: Any, batch: list[tuple[str, bytes]]) -> list[float]:
    costs = []
    for signature, body in batch:
        started = time.process_time()
        status = send(application, signature, body)
        costs.append(time.process_time() - started)
        if not status.startswith("200"):
            raise SystemExit(f"unexpected reply {status}")
    return costs


def main() -> int:
    parser = argparse.ArgumentParser()
    parser.add_argument("--requests", type=int, default=2000)
    parser.add_argument("--warm", type=int, default=300)
    parser.add_argument("--profile", choices=["cprofile", "pyinstrument", "none"], default="none")
    parser.add_argument("--profile-requests", type=int, default=1000)
    parser.add_argument("--top", type=int, default=40)
    args = parser.parse_args()

    env = environment()
    psql(f"DROP DATABASE IF EXISTS {DB} WITH (FORCE)")
    psql(f"CREATE DATABASE {DB}")
    subprocess.run(
        [sys.executable, str(REPO / "manage.py"), "migrate", "--noinput", "-v", "0"],
        cwd=REPO,
        env={**os.environ, **env},
        check=True,
    )
    os.environ.update(env)
    # The access log writes to fd 1; keep its cost, drop its lines.
    report = os.fdopen(os.dup(1), "w", buffering=1)
    devnull = os.open(os.devnull, os.O_WRONLY)
    os.dup2(devnull, 1)

    from config.wsgi import application

    total = args.warm + args.requests + (args.profile_requests if args.profile != "none" else 0)
    print(f"signing {total} bodies ...", file=report)
    pairs = deliveries(total)
    warm, measured = pairs[: args.warm], pairs[args.warm : args.warm + args.requests]
    profiled = pairs[args.warm + args.requests :]
    measure(application, warm)
    costs = measure(application, measured)
    costs_us = sorted(c * 1e6 for c in costs)
    print(
        f"{len(costs)} intakes: CPU per request mean {statistics.fmean(costs_us):.0f} µs, "
        f"median {statistics.median(costs_us):.0f} µs, "
        f"p90 {costs_us[int(len(costs_us) * 0.9)]:.0f} µs",
        file=report,
    )
    if args.profile == "cprofile":
        import cProfile
        import pstats

        profiler = cProfile.Profile(time.process_time)  # CPU, not wall time
        profiler.enable()
        measure(application, profiled)
        profiler.disable()
        stats = pstats.Stats(profiler, stream=report)
        stats.sort_stats("cumulative").print_stats(args.top)
        stats.sort_stats("tottime").print_stats(args.top)
    elif args.profile == "pyinstrument":
        from pyinstrument import Profiler

        profiler = Profiler(interval=0.0001)
        profiler.start()
        measure(application, profiled)
        profiler.stop()
        print(profiler.output_text(unicode=True, color=False, show_all=False), file=report)

    from django.db import connections

    from config.celery import app

    app.control.purge()
    connections.close_all()
    psql(f"DROP DATABASE IF EXISTS {DB} WITH (FORCE)")
    return 0


if __name__ == "__main__":
    raise SystemExit(main())
