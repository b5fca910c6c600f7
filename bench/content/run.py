"""Website-document benchmark (issue 5) on the production-like stack.

    .venv/bin/python bench/content/run.py [--duration 10] [--rounds 3] [--connections 64]

In one run, interleaved rounds, medians reported, `wrk -t1 -c64` from loopback:

- `tessera`: GET /api/website-data/ on config.settings.prod, granian WSGI 2 workers
  `--blocking-threads 2` (the production command, docs/decisions/0002), PostgreSQL
  (database tessera_bench_content), Redis db 11;
- `tessera-304`: the same with `If-None-Match` (304, no body);
- `tessera-db`: the same stack with `CONTENT_CACHE_ENABLED=false` — the document built from
  the database on every request (the baseline the cache is for);
- `fastapi`: FastAPI on uvicorn (2 workers, uvloop) returning the same bytes from the same
  Redis key (the ceiling: ../shared/PERFORMANCE.md);
- `fastapi-304`: the same with `If-None-Match`;
- `tessera-bt1`, `tessera-bt1-304`: Tessera as `tessera` but `--blocking-threads 1`;
- `tessera-switch-5ms`: Tessera as `tessera` but with CPython's default thread switch
  interval (`SERVER_SWITCH_INTERVAL_MS=5`; production sets 0.2, docs/decisions/0014);
- `ceiling`: granian with the production flags serving ceiling_app.py, which answers with
  the bytes and headers Tessera sent and does nothing else: what the server alone gives for
  this reply on this machine (the p99 Tessera cannot go below).

The access log is off (`ACCESS_LOG_LEVEL=WARNING`) since the FastAPI baseline logs nothing.
Writes JSON and Markdown to bench/results/. Stops every process it started.
"""

from __future__ import annotations

import argparse
import json
import os
import secrets
import signal
import statistics
import subprocess
import sys
import time
import urllib.request
from contextlib import suppress
from datetime import UTC, datetime
from pathlib import Path
from typing import Any

REPO = Path(__file__).resolve().parents[2]
sys.path.insert(0, str(REPO / "bench"))

from benchlib.machine import describe  # noqa: E402
from benchlib.report import md_table  # noqa: E402
from benchlib.stack import granian_command  # noqa: E402
from benchlib.wrk import run_wrk  # noqa: E402

HERE = Path(__file__).resolve().parent
RESULTS = REPO / "bench" / "results"
VENV_BIN = REPO / ".venv" / "bin"
DB_NAME = "tessera_bench_content"
DB_URL = f"postgresql://postgres@127.0.0.1:5432/{DB_NAME}"
REDIS_URL = "redis://127.0.0.1:6379/11"
PATH = "/api/website-data/"
CEILING_REPLY = Path("/tmp/tessera-bench-content/ceiling-reply.json")  # noqa: S108 - bench only
_children: list[subprocess.Popen[bytes]] = []


def log(message: str) -> None:
    print(f"[{datetime.now(tz=UTC).strftime('%H:%M:%S')}] {message}", flush=True)


def psql(sql: str) -> None:
    subprocess.run(
        ["psql", "-h", "127.0.0.1", "-U", "postgres", "-d", "postgres", "-qc", sql], check=True
    )


def env_for(*, cache_enabled: bool) -> dict[str, str]:
    keep = ("PATH", "HOME", "LANG", "LC_ALL", "TMPDIR", "TZ", "USER")
    env = {k: os.environ[k] for k in keep if k in os.environ}
    env.update(
        {
            "PYTHONPATH": str(REPO),
            "DJANGO_SETTINGS_MODULE": "config.settings.prod",
            "DJANGO_SECRET_KEY": secrets.token_urlsafe(45)[:60],
            "DJANGO_ALLOWED_HOSTS": "127.0.0.1",
            "SECURE_SSL_REDIRECT": "false",
            "ALLOW_CONSOLE_DELIVERY": "true",  # nothing is emailed or texted in a bench
            "DATABASE_URL": DB_URL,
            "REDIS_URL": REDIS_URL,
            "RATE_LIMIT_DEFAULT": "100000000/minute",
            "ACCESS_LOG_LEVEL": "WARNING",
            "LOG_LEVEL": "WARNING",
            "TESSERA_VAR_DIR": "/tmp/tessera-bench-content",  # noqa: S108 - bench only
            "STATIC_ROOT": "/tmp/tessera-bench-content/static",  # noqa: S108
            "CONTENT_CACHE_ENABLED": "true" if cache_enabled else "false",
        }
    )
    return env


def start(argv: list[str], env: dict[str, str], name: str) -> subprocess.Popen[bytes]:
    handle = (RESULTS / f"content-{name}.log").open("wb")
    process = subprocess.Popen(
        argv, cwd=REPO, env=env, stdout=handle, stderr=subprocess.STDOUT, start_new_session=True
    )
    _children.append(process)
    return process


def stop_all() -> None:
    for process in _children:
        if process.poll() is None:
            with suppress(ProcessLookupError):
                os.killpg(process.pid, signal.SIGTERM)
    for process in _children:
        with suppress(subprocess.TimeoutExpired):
            process.wait(timeout=10)
        if process.poll() is None:
            with suppress(ProcessLookupError):
                os.killpg(process.pid, signal.SIGKILL)


def wait_ready(url: str, timeout: float = 60) -> None:
    deadline = time.time() + timeout
    while time.time() < deadline:
        with (
            suppress(Exception),
            urllib.request.urlopen(url, timeout=2) as response,  # noqa: S310 - loopback
        ):
            if response.status == 200:
                return
        time.sleep(0.3)
    raise RuntimeError(f"{url} did not become ready")


def record_reply(url: str, path: Path) -> int:
    """Tessera's reply to `url` (body and headers) written to `path` for ceiling_app.py;
    returns the body's size."""
    with urllib.request.urlopen(url, timeout=5) as response:  # noqa: S310 - loopback
        body = response.read()
        headers = [
            [name, value]
            for name, value in response.headers.items()
            if name.lower() not in {"date", "server", "transfer-encoding", "connection"}
        ]
    path.parent.mkdir(parents=True, exist_ok=True)
    path.write_text(json.dumps({"body": body.decode(), "headers": headers}))
    return len(body)


def server_command(
    port: int, *, app: str = "config.wsgi:application", threads: int = 2
) -> list[str]:
    """The production command (docs/decisions/0002) on loopback, without websockets (no route
    uses them)."""
    return [*granian_command(app, port, blocking_threads=threads), "--no-ws"]


def start_ceiling(port: int, env: dict[str, str]) -> None:
    """ceiling_app.py on the same server command as Tessera (its app swapped in)."""
    start(
        server_command(port, app="ceiling_app:application"),
        {**env, "PYTHONPATH": str(HERE), "CEILING_REPLY": str(CEILING_REPLY)},
        "ceiling",
    )
    wait_ready(f"http://127.0.0.1:{port}{PATH}")


def etag_of(url: str) -> str:
    with urllib.request.urlopen(url, timeout=5) as response:  # noqa: S310 - loopback
        return str(response.headers["ETag"])


def wrk(url: str, *, duration: int, connections: int, headers: list[str]) -> dict[str, Any]:
    data = run_wrk("wrk", url, duration=duration, connections=connections, headers=headers)
    return {
        "rps": data["rps"],
        "p50_ms": data["latency_us"]["p50"] / 1000,
        "p99_ms": data["latency_us"]["p99"] / 1000,
        "non_2xx_3xx": data["non_2xx"],
        "socket_errors": data["socket_errors"],
        "command": data["command"],
    }


def write_results(
    runs: dict[str, list[dict[str, Any]]],
    *,
    machine: dict[str, Any],
    size: int,
    args: argparse.Namespace,
) -> None:
    summary = {
        name: {
            "rps": statistics.median(r["rps"] for r in results),
            "p99_ms": statistics.median(r["p99_ms"] for r in results),
            "non_2xx_3xx": sum(r["non_2xx_3xx"] for r in results),
            "socket_errors": sum(r["socket_errors"] for r in results),
        }
        for name, results in runs.items()
    }
    base = summary["fastapi"]["rps"]
    for item in summary.values():
        item["vs_fastapi"] = round(item["rps"] / base, 2) if base else None
    summary["tessera"]["vs_db_every_request"] = round(
        summary["tessera"]["rps"] / summary["tessera-db"]["rps"], 2
    )
    stamp = datetime.now(tz=UTC).strftime("%Y%m%dT%H%M%SZ")
    results = {
        "machine": machine,
        "document_bytes": size,
        "args": vars(args),
        "summary": summary,
        "runs": runs,
    }
    (RESULTS / f"content-{stamp}.json").write_text(json.dumps(results, indent=2))
    lines = [
        f"# Website document benchmark {stamp}",
        "",
        (
            f"Document reply: {size} bytes (both languages). wrk -t1 -c{args.connections}, "
            f"{args.duration}s x {args.rounds} interleaved rounds, medians."
        ),
        "",
        *md_table(
            ["target", "req/s", "÷ FastAPI", "p99 ms", "errors"],
            [
                [
                    name,
                    f"{item['rps']:.0f}",
                    item["vs_fastapi"],
                    f"{item['p99_ms']:.1f}",
                    item["non_2xx_3xx"] + item["socket_errors"],
                ]
                for name, item in summary.items()
            ],
        ),
        "",
        (
            "Cached ÷ built from the database every request: "
            f"{summary['tessera']['vs_db_every_request']}"
        ),
        "",
        (
            "`ceiling`: the same server and flags answering with Tessera's bytes and headers "
            "and doing nothing else (bench/content/ceiling_app.py)."
        ),
        "",
        f"Machine: {json.dumps(machine)[:2000]}",
    ]
    (RESULTS / f"content-{stamp}.md").write_text("\n".join(lines) + "\n")
    print("\n".join(lines[: 12 + len(summary)]))


def prepare_database() -> None:
    """Recreate the bench database with the demo site; empty the bench's Redis database."""
    log(f"database {DB_NAME}: recreate, migrate, demo content")
    psql(f"DROP DATABASE IF EXISTS {DB_NAME}")
    psql(f"CREATE DATABASE {DB_NAME}")
    cached_env = env_for(cache_enabled=True)
    python = str(VENV_BIN / "python")
    for command in (["migrate", "--noinput"], ["collectstatic", "--noinput"]):
        subprocess.run(
            [python, "manage.py", *command],
            cwd=REPO,
            env=cached_env,
            check=True,
            capture_output=True,
        )
    subprocess.run(
        [
            python,
            "-c",
            "import django; django.setup(); from tessera.content import demo; print(demo.load())",
        ],
        cwd=REPO,
        env=cached_env,
        check=True,
    )
    subprocess.run(["redis-cli", "-n", "11", "flushdb"], check=True, capture_output=True)


def main() -> None:
    parser = argparse.ArgumentParser()
    parser.add_argument("--duration", type=int, default=10)
    parser.add_argument("--rounds", type=int, default=3)
    parser.add_argument("--connections", type=int, default=64)
    args = parser.parse_args()
    RESULTS.mkdir(parents=True, exist_ok=True)
    machine = describe(REPO)

    prepare_database()
    cached_env = env_for(cache_enabled=True)

    ports = {
        "tessera": 8711,
        "tessera-db": 8712,
        "fastapi": 8713,
        "tessera-bt1": 8714,
        "ceiling": 8715,
        "tessera-switch-5ms": 8716,
    }
    try:
        start(server_command(ports["tessera"]), cached_env, "tessera")
        start(
            server_command(ports["tessera-db"]),
            env_for(cache_enabled=False),
            "tessera-db",
        )
        # The production command but one blocking thread per worker (docs/decisions/0002
        # keeps two, so a slow upstream call does not stall a worker).
        start(server_command(ports["tessera-bt1"], threads=1), cached_env, "tessera-bt1")
        start(
            server_command(ports["tessera-switch-5ms"]),
            {**cached_env, "SERVER_SWITCH_INTERVAL_MS": "5"},
            "tessera-switch-5ms",
        )
        for name in ("tessera", "tessera-db", "tessera-bt1", "tessera-switch-5ms"):
            wait_ready(f"http://127.0.0.1:{ports[name]}{PATH}")
        fastapi_env = {**cached_env, "PYTHONPATH": str(HERE)}
        start(
            [
                str(VENV_BIN / "uvicorn"),
                "fastapi_app:app",
                "--host",
                "127.0.0.1",
                "--port",
                str(ports["fastapi"]),
                "--workers",
                "2",
                "--loop",
                "uvloop",
                "--no-access-log",
                "--log-level",
                "warning",
            ],
            fastapi_env,
            "fastapi",
        )
        wait_ready(f"http://127.0.0.1:{ports['fastapi']}{PATH}")
        etag = etag_of(f"http://127.0.0.1:{ports['tessera']}{PATH}")
        size = record_reply(f"http://127.0.0.1:{ports['tessera']}{PATH}", CEILING_REPLY)
        start_ceiling(ports["ceiling"], cached_env)
        targets = {
            "tessera": (ports["tessera"], []),
            "tessera-304": (ports["tessera"], [f"If-None-Match: {etag}"]),
            "tessera-bt1": (ports["tessera-bt1"], []),
            "tessera-bt1-304": (ports["tessera-bt1"], [f"If-None-Match: {etag}"]),
            "tessera-switch-5ms": (ports["tessera-switch-5ms"], []),
            "tessera-db": (ports["tessera-db"], []),
            "fastapi": (ports["fastapi"], []),
            "fastapi-304": (ports["fastapi"], [f"If-None-Match: {etag}"]),
            "ceiling": (ports["ceiling"], []),
        }
        for port, headers in targets.values():  # warm-up
            wrk(
                f"http://127.0.0.1:{port}{PATH}",
                duration=2,
                connections=args.connections,
                headers=headers,
            )
        runs: dict[str, list[dict[str, Any]]] = {name: [] for name in targets}
        for round_no in range(args.rounds):
            for name, (port, headers) in targets.items():
                result = wrk(
                    f"http://127.0.0.1:{port}{PATH}",
                    duration=args.duration,
                    connections=args.connections,
                    headers=headers,
                )
                runs[name].append(result)
                log(
                    f"round {round_no + 1} {name}: {result['rps']:.0f} req/s, "
                    f"p99 {result['p99_ms']:.1f} ms"
                )
    finally:
        stop_all()

    write_results(runs, machine=machine, size=size, args=args)


if __name__ == "__main__":
    main()
