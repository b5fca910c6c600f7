"""Inbox listing at scale (issue 6's target: 100,000 capsules for one receiver, p99 under
30 ms at 32 connections, served by an index).

    .venv/bin/python bench/capsules/inbox.py [--capsules 100000] [--duration 15] [--rounds 3]

Creates (drops first) the database `tessera_bench_inbox` (or `$BENCH_DB_NAME`), migrates it,
seeds one receiver with `--capsules` capsules (plus drafts addressed to them and capsules of
other users) with `INSERT … SELECT generate_series`, then starts Tessera as deployed
(config.settings.prod on granian WSGI, 2 workers, --blocking-threads 2, PostgreSQL with
Django's pool, Redis db 10 or `$BENCH_REDIS_DB`, ports from `$BENCH_PORTS` when set: a shared
machine's own) and drives it from loopback with `wrk -t1 -c32`, with the receiver's access token:

- `GET /api/capsules?box=inbox` (the first page, what every client asks for);
- `GET /api/capsules?box=inbox&cursor=…` (a page 90,000 capsules deep, by cursor);
- `GET /api/ping` on the same server, the framework's own ceiling in this run;
- the first page again on the same command with one blocking thread, and with CPython's
  default 5 ms thread switch interval (`SERVER_SWITCH_INTERVAL_MS=5`, docs/decisions/0014).

Rounds are interleaved; medians are reported. Writes `bench/results/inbox-<stamp>.json` and
`.md` with the machine's description and `EXPLAIN (ANALYZE, BUFFERS)` of every query one
inbox request runs. Not a test: nothing asserts on time. Stops every process it started.
"""

from __future__ import annotations

import argparse
import json
import os
import statistics
import subprocess
import sys
import tempfile
import time
import urllib.request
from datetime import UTC, datetime
from pathlib import Path
from typing import Any

REPO = Path(__file__).resolve().parents[2]
HERE = Path(__file__).resolve().parent
sys.path.insert(0, str(REPO / "bench"))

from benchlib.machine import describe, one_line  # noqa: E402
from benchlib.procs import (  # noqa: E402
    Registry,
    free_port,
    install_signal_handlers,
    wait_http,
)
from benchlib.stack import granian_command, manage, tessera_env  # noqa: E402
from benchlib.wrk import ensure_wrk, wrk_version  # noqa: E402
from benchlib.wrk import run_wrk as wrk_once  # noqa: E402

RESULTS = REPO / "bench" / "results"
# A shared machine: BENCH_DB_NAME, BENCH_REDIS_DB and BENCH_PORTS name this run's own.
DB_NAME = os.environ.get("BENCH_DB_NAME", "tessera_bench_inbox")
PG_SERVER = "postgresql://postgres@127.0.0.1:5432"
REDIS_DB = os.environ.get("BENCH_REDIS_DB", "10")
REDIS_URL = f"redis://127.0.0.1:6379/{REDIS_DB}"
TARGET_P99_MS = 30.0


def log(message: str) -> None:
    print(f"[{datetime.now(tz=UTC).strftime('%H:%M:%S')}] {message}", flush=True)


def psql(sql: str) -> None:
    subprocess.run(
        ["psql", f"{PG_SERVER}/postgres", "-v", "ON_ERROR_STOP=1", "-qc", sql],
        check=True,
        capture_output=True,
    )


def run_wrk(wrk: str, url: str, *, token: str, duration: int, connections: int) -> dict[str, Any]:
    data = wrk_once(
        wrk,
        url,
        duration=duration,
        connections=connections,
        headers=[f"Authorization: Bearer {token}"],
    )
    latency = data["latency_us"]
    return {
        "requests": data["requests"],
        "requests_per_s": round(data["rps"], 1),
        "p50_ms": round(latency["p50"] / 1000, 2),
        "p90_ms": round(latency["p90"] / 1000, 2),
        "p99_ms": round(latency["p99"] / 1000, 2),
        "max_ms": round(latency["max"] / 1000, 2),
        "non_2xx": data["non_2xx"],
        "socket_errors": data["socket_errors"],
    }


def fetch(url: str, token: str) -> dict[str, Any]:
    request = urllib.request.Request(url, headers={"Authorization": f"Bearer {token}"})  # noqa: S310
    with urllib.request.urlopen(request, timeout=10) as response:  # noqa: S310 - loopback
        return dict(json.loads(response.read()))


def median(runs: list[dict[str, Any]], key: str) -> float:
    return round(statistics.median(run[key] for run in runs), 2)


def main() -> int:  # noqa: PLR0915 - one linear script
    parser = argparse.ArgumentParser(description=__doc__.split("\n\n")[0])
    parser.add_argument("--capsules", type=int, default=100_000)
    parser.add_argument("--others", type=int, default=20_000)
    parser.add_argument("--duration", type=int, default=15)
    parser.add_argument("--warmup", type=int, default=3)
    parser.add_argument("--rounds", type=int, default=3)
    parser.add_argument("--connections", type=int, default=32)
    args = parser.parse_args()

    install_signal_handlers()
    wrk = ensure_wrk()
    stamp = datetime.now(tz=UTC).strftime("%Y%m%dT%H%M%SZ")
    work = Path(tempfile.mkdtemp(prefix="tessera-bench-inbox-"))
    machine = describe(REPO, wrk, wrk_version(wrk))
    log(f"machine: {one_line(machine)}; logs in {work}")

    env = tessera_env(work / "static")
    env.update(
        {
            "DATABASE_URL": f"{PG_SERVER}/{DB_NAME}",
            "REDIS_URL": REDIS_URL,
            "TESSERA_VAR_DIR": str(work / "var"),
            # The token is issued once before the run; it must outlive the longest run.
            "JWT_ACCESS_TOKEN_LIFETIME_SECONDS": "7200",
        }
    )
    registry = Registry()
    try:
        log(f"creating database {DB_NAME}, clearing Redis db {REDIS_DB}")
        psql(f"DROP DATABASE IF EXISTS {DB_NAME} WITH (FORCE)")
        psql(f"CREATE DATABASE {DB_NAME}")
        subprocess.run(["redis-cli", "-n", REDIS_DB, "FLUSHDB"], check=True, capture_output=True)
        manage(["migrate", "--noinput"], env, work / "migrate.log")
        manage(["collectstatic", "--noinput"], env, work / "collectstatic.log")

        log(f"seeding {args.capsules:,} capsules for one receiver, {args.others:,} for others")
        seed_path = work / "seed.json"
        started = time.perf_counter()
        subprocess.run(
            [
                sys.executable,
                str(HERE / "inbox_seed.py"),
                str(seed_path),
                "--capsules",
                str(args.capsules),
                "--others",
                str(args.others),
            ],
            cwd=REPO,
            env=env,
            check=True,
        )
        seed_s = time.perf_counter() - started
        seed = json.loads(seed_path.read_text())
        log(f"seeded in {seed_s:.1f} s; inbox holds {seed['inbox_capsules']:,}")

        def serve(name: str, extra_env: dict[str, str], threads: int = 2) -> str:
            port = free_port()
            server = registry.start(
                name,
                granian_command("config.wsgi:application", port, blocking_threads=threads),
                env={**env, **extra_env},
                cwd=REPO,
                log_path=work / f"{name}.log",
            )
            wait_http(server, port, "/health/", timeout=90)
            return f"http://127.0.0.1:{port}"

        base = serve("granian", {})
        # The same stack with the box-page cache off: every request runs the page's query.
        uncached = serve("granian-uncached", {"CAPSULE_PAGE_CACHE": "false"})
        # The production command but one blocking thread per worker (0002 keeps two).
        one_thread = serve("granian-bt1", {}, threads=1)
        # The production command with CPython's default switch interval (production: 0.2 ms,
        # docs/decisions/0014).
        switch_5ms = serve("granian-switch-5ms", {"SERVER_SWITCH_INTERVAL_MS": "5"})
        token = seed["access_token"]
        deep_query = f"box=inbox&cursor={seed['deep_cursor']}"
        targets = {
            "inbox_first_page": f"{base}/api/capsules?box=inbox",
            "inbox_deep_cursor": f"{base}/api/capsules?{deep_query}",
            "inbox_first_page_uncached": f"{uncached}/api/capsules?box=inbox",
            "inbox_deep_cursor_uncached": f"{uncached}/api/capsules?{deep_query}",
            "inbox_first_page_bt1": f"{one_thread}/api/capsules?box=inbox",
            "inbox_first_page_switch_5ms": f"{switch_5ms}/api/capsules?box=inbox",
            "ping": f"{base}/api/ping",
        }
        first = fetch(targets["inbox_first_page"], token)["data"]
        deep = fetch(targets["inbox_deep_cursor"], token)["data"]
        checks = {
            "first_page_items": len(first["items"]),
            "first_page_count": first["count"],
            "first_page_count_exact": first["countExact"],
            "deep_page_items": len(deep["items"]),
            "deep_page_has_next_cursor": deep["nextCursor"] is not None,
        }
        log(f"replies: {checks}")

        log(f"warming up ({args.warmup} s each)")
        for url in targets.values():
            run_wrk(wrk, url, token=token, duration=args.warmup, connections=args.connections)
        runs: dict[str, list[dict[str, Any]]] = {name: [] for name in targets}
        for round_number in range(1, args.rounds + 1):
            for name, url in targets.items():
                figures = run_wrk(
                    wrk, url, token=token, duration=args.duration, connections=args.connections
                )
                runs[name].append(figures)
                log(
                    f"round {round_number} {name}: {figures['requests_per_s']:.0f} req/s, "
                    f"p50 {figures['p50_ms']} ms, p99 {figures['p99_ms']} ms, "
                    f"non-2xx {figures['non_2xx']}, socket errors {figures['socket_errors']}"
                )
    finally:
        registry.stop_all()

    summary = {
        name: {
            "requests_per_s": median(target_runs, "requests_per_s"),
            "p50_ms": median(target_runs, "p50_ms"),
            "p99_ms": median(target_runs, "p99_ms"),
            "non_2xx": sum(run["non_2xx"] for run in target_runs),
            "socket_errors": sum(run["socket_errors"] for run in target_runs),
        }
        for name, target_runs in runs.items()
    }
    report = {
        "benchmark": "capsules.inbox",
        "started": stamp,
        "machine": machine,
        "settings": {
            "capsules_for_receiver": args.capsules,
            "seed": seed["table_rows"],
            "seed_seconds": round(seed_s, 1),
            "duration_s": args.duration,
            "rounds": args.rounds,
            "connections": args.connections,
            "server": (
                "config.settings.prod on granian WSGI, 2 workers, --blocking-threads 2 "
                "(four servers: page cache on; off; on with --blocking-threads 1; on with "
                "SERVER_SWITCH_INTERVAL_MS=5)"
            ),
            "database": f"{PG_SERVER}/{DB_NAME}",
            "redis": REDIS_URL,
            "deep_page_offset": seed["deep_offset"],
        },
        "checks": checks,
        "runs": runs,
        "summary": summary,
        "ratios_to_ping": {
            name: round(summary[name]["requests_per_s"] / summary["ping"]["requests_per_s"], 3)
            for name in summary
            if name != "ping" and summary["ping"]["requests_per_s"]
        },
        "target": {"p99_ms_max": TARGET_P99_MS, "connections": 32},
        "explain": seed["explain"],
    }
    RESULTS.mkdir(parents=True, exist_ok=True)
    json_path = RESULTS / f"inbox-{stamp}.json"
    json_path.write_text(json.dumps(report, indent=2) + "\n")
    json_path.with_suffix(".md").write_text(markdown(report))
    print(markdown(report))
    log(f"results: {json_path} and {json_path.with_suffix('.md')}")
    return 0


def markdown(report: dict[str, Any]) -> str:
    s = report["summary"]
    settings = report["settings"]
    labels = {
        "inbox_first_page": "GET /api/capsules?box=inbox (first page)",
        "inbox_deep_cursor": (
            f"GET /api/capsules?box=inbox&cursor=… ({settings['deep_page_offset']:,} deep)"
        ),
        "inbox_first_page_uncached": "the first page, page cache off (the query every time)",
        "inbox_deep_cursor_uncached": "the deep page, page cache off",
        "inbox_first_page_bt1": "the first page, page cache on, `--blocking-threads 1`",
        "inbox_first_page_switch_5ms": (
            "the first page, page cache on, CPython's default 5 ms switch interval"
        ),
        "ping": "GET /api/ping (same server, framework ceiling)",
    }
    lines = [
        f"# Capsule inbox at scale, {report['started']}",
        "",
        (
            f"Machine: {one_line(report['machine'])}. Load average at start: "
            f"{report['machine']['load_average_at_start']}."
        ),
        "",
        (
            f"One receiver with {settings['capsules_for_receiver']:,} capsules (plus "
            f"{settings['seed']['receiver_drafts']:,} drafts addressed to them and "
            f"{settings['seed']['others']:,} capsules of other users), seeded in "
            f"{settings['seed_seconds']} s. {settings['server']}; PostgreSQL, Redis. "
            f"wrk -t1 -c{settings['connections']} from loopback, {settings['duration_s']} s per "
            f"target, {settings['rounds']} interleaved rounds, medians."
        ),
        "",
        "| target | req/s | p50 ms | p99 ms | non-2xx | socket errors | ÷ ping |",
        "|---|---|---|---|---|---|---|",
    ]
    for name, label in labels.items():
        row = s[name]
        ratio = report["ratios_to_ping"].get(name, 1.0 if name == "ping" else "")
        lines.append(
            f"| {label} | {row['requests_per_s']:.0f} | {row['p50_ms']} | {row['p99_ms']} | "
            f"{row['non_2xx']} | {row['socket_errors']} | {ratio} |"
        )
    p99 = s["inbox_first_page"]["p99_ms"]
    met = "met" if p99 < report["target"]["p99_ms_max"] else "not met"
    lines += [
        "",
        (
            f"Target: p99 under {report['target']['p99_ms_max']:.0f} ms at 32 connections; "
            f"first page p99 {p99} ms: **{met}** (page cache on, its steady state); with the "
            f"cache off, every request querying: p99 "
            f"{s['inbox_first_page_uncached']['p99_ms']} ms."
        ),
        f"Replies checked before the run: `{json.dumps(report['checks'])}`.",
        "",
        "## Query plans (`EXPLAIN (ANALYZE, BUFFERS)`, every query of one request)",
        "",
    ]
    for page, plans in report["explain"].items():
        for plan in plans:
            lines += [f"### {page}", "", "```sql", plan["sql"], "```", ""]
            lines += ["```", plan["plan"], "```", ""]
    return "\n".join(lines)


if __name__ == "__main__":
    sys.exit(main())
