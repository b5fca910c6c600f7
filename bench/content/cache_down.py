"""What a website-document request costs while the Redis cache is unreachable (issue 13, 12).

    .venv/bin/python bench/content/cache_down.py [--requests 300] [--redis-db 2]

Production settings on a SQLite database in a temporary directory, with the demo content.
One granian worker (as `make run` starts it) serves `GET /api/website-data/`; one client
sends the requests one after another on one keep-alive connection and times each. Two
configurations, interleaved round by round:

- `redis-down`: `REDIS_URL` points at a port on 127.0.0.1 that nothing listens on (the
  cache, the rate-limit counters and the edge all see a dead server);
- `redis-up` (the baseline of the same run): `REDIS_URL` is the real Redis on 127.0.0.1:6379,
  database `--redis-db`, whose `tessera:*` keys are deleted afterwards.

Reports the median and p95 latency and what the server logged per request (lines at ERROR
and WARNING, tracebacks). Writes bench/results/cache-down-<stamp>.json and .md.
Nothing here asserts a timing.
"""

from __future__ import annotations

import argparse
import http.client
import json
import os
import secrets
import shutil
import statistics
import subprocess
import sys
import tempfile
import time
from datetime import UTC, datetime
from pathlib import Path
from typing import Any

REPO = Path(__file__).resolve().parents[2]
sys.path.insert(0, str(REPO / "bench"))

from benchlib.machine import describe  # noqa: E402
from benchlib.procs import Registry, free_port, tail  # noqa: E402
from benchlib.report import md_table  # noqa: E402

RESULTS = REPO / "bench" / "results"
VENV_BIN = REPO / ".venv" / "bin"
PATH = "/api/website-data/"


def environment(var_dir: Path, redis_url: str) -> dict[str, str]:
    keep = ("PATH", "HOME", "LANG", "LC_ALL", "TMPDIR", "TZ", "USER")
    env = {key: os.environ[key] for key in keep if key in os.environ}
    env.update(
        {
            "DJANGO_SETTINGS_MODULE": "config.settings.prod",
            "DJANGO_SECRET_KEY": secrets.token_urlsafe(45)[:60],
            "DJANGO_ALLOWED_HOSTS": "127.0.0.1,localhost",
            "SECURE_SSL_REDIRECT": "false",
            "TESSERA_VAR_DIR": str(var_dir),
            "RATE_LIMIT_DEFAULT": "100000000/minute",
            "LOG_LEVEL": "INFO",
            "ACCESS_LOG_LEVEL": "WARNING",
            "REDIS_URL": redis_url,
        }
    )
    return env


def prepare(var_dir: Path) -> None:
    env = environment(var_dir, "")
    for args in (["migrate", "--noinput", "-v", "0"], ["createcachetable"], ["seed_demo"]):
        subprocess.run(
            [str(VENV_BIN / "python"), "manage.py", *args],
            cwd=REPO,
            env=env,
            check=True,
            capture_output=True,
        )


def wait_ready(port: int, timeout: float = 120) -> None:
    deadline = time.monotonic() + timeout
    while time.monotonic() < deadline:
        try:
            conn = http.client.HTTPConnection("127.0.0.1", port, timeout=2)
            conn.request("GET", "/health/")
            if conn.getresponse().status == 200:
                return
        except OSError:
            time.sleep(0.2)
    raise RuntimeError(f"no answer on port {port} within {timeout} s")


def measure(port: int, requests: int, warmup: int) -> list[float]:
    conn = http.client.HTTPConnection("127.0.0.1", port, timeout=30)
    timings = []
    for index in range(warmup + requests):
        started = time.perf_counter()
        conn.request("GET", PATH)
        response = conn.getresponse()
        response.read()
        elapsed = (time.perf_counter() - started) * 1000
        if response.status != 200:
            raise RuntimeError(f"{PATH} answered {response.status}")
        if index >= warmup:
            timings.append(elapsed)
    conn.close()
    return timings


def log_counts(text: str) -> dict[str, int]:
    lines = text.splitlines()
    return {
        "error_lines": sum('"level": "error"' in line or "[error" in line for line in lines),
        "warning_lines": sum('"level": "warning"' in line or "[warning" in line for line in lines),
        "tracebacks": text.count("Traceback (most recent call last)"),
    }


def one_round(
    registry: Registry, var_dir: Path, redis_url: str, requests: int, log: Path
) -> dict[str, Any]:
    port = free_port()
    server = registry.start(
        "web",
        [
            str(VENV_BIN / "granian"),
            "--interface",
            "wsgi",
            "config.wsgi:application",
            "--host",
            "127.0.0.1",
            "--port",
            str(port),
            "--workers",
            "1",
            "--blocking-threads",
            "2",
            "--no-access-log",
        ],
        env=environment(var_dir, redis_url),
        cwd=REPO,
        log_path=log,
    )
    try:
        wait_ready(port)
        measure(port, 0, 20)
        before = log.stat().st_size
        timings = measure(port, requests, 0)
        time.sleep(0.5)
        with log.open("rb") as handle:
            handle.seek(before)
            counts = log_counts(handle.read().decode(errors="replace"))
    except Exception:
        print(tail(log))
        raise
    finally:
        registry.stop(server)
    return {"timings_ms": timings, **counts}


def clean_redis(url: str) -> None:
    import redis

    client = redis.Redis.from_url(url)
    for key in client.scan_iter("tessera:*"):
        client.delete(key)


def main() -> int:
    parser = argparse.ArgumentParser(description=__doc__.split("\n\n")[0])
    parser.add_argument("--requests", type=int, default=300)
    parser.add_argument("--rounds", type=int, default=2)
    parser.add_argument("--redis-db", type=int, default=2)
    args = parser.parse_args()

    var_dir = Path(tempfile.mkdtemp(prefix="tessera_cache_down_"))
    registry = Registry()
    configurations = {
        "redis-down": f"redis://127.0.0.1:{free_port()}/0",
        "redis-up": f"redis://127.0.0.1:6379/{args.redis_db}",
    }
    rounds: dict[str, list[dict[str, Any]]] = {name: [] for name in configurations}
    machine = describe(REPO)
    try:
        prepare(var_dir)
        for round_index in range(args.rounds):
            for name, url in configurations.items():
                result = one_round(
                    registry, var_dir, url, args.requests, var_dir / f"{name}-{round_index}.log"
                )
                rounds[name].append(result)
                print(
                    f"round {round_index + 1} {name}: median "
                    f"{statistics.median(result['timings_ms']):.2f} ms, "
                    f"{result['error_lines']} errors, {result['tracebacks']} tracebacks",
                    flush=True,
                )
    finally:
        registry.stop_all()
        clean_redis(configurations["redis-up"])
        shutil.rmtree(var_dir, ignore_errors=True)

    summary: dict[str, dict[str, float]] = {}
    for name, results in rounds.items():
        timings = sorted(t for result in results for t in result["timings_ms"])
        total = len(timings)
        summary[name] = {
            "median_ms": round(statistics.median(timings), 2),
            "p95_ms": round(timings[int(total * 0.95) - 1], 2),
            "error_lines_per_request": round(sum(r["error_lines"] for r in results) / total, 3),
            "warning_lines_per_request": round(sum(r["warning_lines"] for r in results) / total, 3),
            "tracebacks_per_request": round(sum(r["tracebacks"] for r in results) / total, 3),
        }
    stamp = datetime.now(UTC).strftime("%Y%m%dT%H%M%SZ")
    RESULTS.mkdir(parents=True, exist_ok=True)
    (RESULTS / f"cache-down-{stamp}.json").write_text(
        json.dumps({"machine": machine, "summary": summary, "rounds": rounds}, indent=2)
    )
    rows: list[list[object]] = [
        [
            name,
            values["median_ms"],
            values["p95_ms"],
            values["error_lines_per_request"],
            values["warning_lines_per_request"],
            values["tracebacks_per_request"],
        ]
        for name, values in summary.items()
    ]
    lines = [
        f"# Website document with the Redis cache down, {stamp}",
        "",
        (
            f"`GET {PATH}`, production settings, SQLite, one granian worker; "
            f"{args.rounds} rounds of {args.requests} sequential requests per configuration. "
            f"Git {machine['git_commit']}{' (dirty)' if machine['git_dirty'] else ''}; "
            f"load average at start {machine['load_average_at_start']}."
        ),
        "",
        *md_table(
            [
                "configuration",
                "median ms",
                "p95 ms",
                "ERROR lines / request",
                "WARNING lines / request",
                "tracebacks / request",
            ],
            rows,
        ),
        "",
    ]
    (RESULTS / f"cache-down-{stamp}.md").write_text("\n".join(lines))
    print("\n".join(lines))
    return 0


if __name__ == "__main__":
    sys.exit(main())
