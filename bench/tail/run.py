"""The web tier's latency tail: the production command against variants of it, interleaved.

    flock /work/bench.lock .venv/bin/python bench/tail/run.py --ab base,bt1 [--rounds 3]
        [--duration 8] [--connections 64] [--targets health,intake] [--probe]

Starts each named variant of the production-like stack (config.settings.prod on granian
WSGI, 2 workers; PostgreSQL, Redis, RabbitMQ; logging at INFO to a file, as
bench/payments/run.py and bench/run.py run it) side by side on its own port, then runs
`wrk -t1 -c64 --latency` against `GET /health/` (Django's HTML middleware chain, no
database) and `POST /webhooks/sandbox` (the lean chain, one INSERT, a new signed delivery
each request) in interleaved rounds (A B A B ...), and prints p50/p90/p99/p99.9/max and
req/s, with the server processes' CPU per request. `--probe` serves every variant through
bench/tail/probe.py (per-request timing and gc passes inside the worker).

Names used (so that it can run beside another engineer's benches): the database
`$TAIL_DB` (default tessera_h1_tail), Redis `$TAIL_REDIS` (default db 7), the RabbitMQ vhost
`$TAIL_BROKER` (default tessera_h1), ports from 18100. Writes bench/results/tail-<stamp>.json
and .md. Not a test: no assertion on time.
"""

from __future__ import annotations

import argparse
import importlib.util
import json
import os
import statistics
import subprocess
import sys
import tempfile
import uuid
from datetime import UTC, datetime
from pathlib import Path
from typing import Any

import psutil

REPO = Path(__file__).resolve().parents[2]
sys.path.insert(0, str(REPO))
sys.path.insert(0, str(REPO / "bench"))

from benchlib.machine import describe, one_line  # noqa: E402
from benchlib.procs import Registry, install_signal_handlers, wait_http  # noqa: E402
from benchlib.report import md_table  # noqa: E402
from benchlib.stack import granian_command, manage, tessera_env  # noqa: E402
from benchlib.wrk import ensure_wrk, wrk_version  # noqa: E402

_spec = importlib.util.spec_from_file_location("pay_bench", REPO / "bench/payments/run.py")
if _spec is None or _spec.loader is None:
    raise ImportError("bench/payments/run.py")
pay = importlib.util.module_from_spec(_spec)
_spec.loader.exec_module(pay)

PG = "postgresql://postgres@127.0.0.1:5432"
DB = os.environ.get("TAIL_DB", "tessera_h1_tail")
REDIS = os.environ.get("TAIL_REDIS", "redis://127.0.0.1:6379/7")
BROKER = os.environ.get("TAIL_BROKER", "amqp://guest:guest@127.0.0.1:5672/tessera_h1")
PORTS = iter(range(18100, 18200))
OUT = REPO / "bench" / "results"
REPORT_LUA = REPO / "bench" / "wrk" / "report.lua"

# name -> (granian options beyond the production command's, environment overrides)
VARIANTS: dict[str, tuple[dict[str, Any], dict[str, str]]] = {
    "base": ({}, {}),
    "base2": ({}, {}),
    "prewarm": ({}, {"TAIL_PREWARM": "1"}),
    "bt1": ({"blocking_threads": 1}, {}),
    "bt4": ({"blocking_threads": 4}, {}),
    "noaccesslog": ({}, {"ACCESS_LOG_LEVEL": "WARNING"}),
    "switch5ms": ({}, {"SERVER_SWITCH_INTERVAL_MS": "5"}),
    "bp2": ({"extra": ["--backpressure", "2"]}, {}),
    "bp4": ({"extra": ["--backpressure", "4"]}, {}),
    "bp8": ({"extra": ["--backpressure", "8"]}, {}),
    "bp16": ({"extra": ["--backpressure", "16"]}, {}),
    "w1bt2": ({"workers": 1}, {}),
}


def command(name: str, port: int, target: str) -> list[str]:
    opts, _env = VARIANTS[name]
    argv = granian_command(
        target,
        port,
        workers=opts.get("workers", 2),
        blocking_threads=opts.get("blocking_threads", 2),
    )
    return [*argv[:-1], *opts.get("extra", []), argv[-1]]


def wrk_get(wrk: str, url: str, duration: int, connections: int) -> dict[str, Any]:
    cmd = [wrk, "-t1", f"-c{connections}", f"-d{duration}s", "--timeout=5s", "--latency"]
    cmd += ["-s", str(REPORT_LUA), url]
    out = subprocess.run(cmd, capture_output=True, text=True, timeout=duration + 60).stdout
    data = json.loads(next(ln for ln in out.splitlines() if ln.startswith("WRK_JSON "))[9:])
    return summarise(data, " ".join(cmd))


def wrk_post(wrk: str, url: str, bodies: Path, duration: int, connections: int) -> dict:
    cmd = [wrk, "-t1", f"-c{connections}", f"-d{duration}s", "--timeout=5s", "--latency"]
    cmd += ["-s", str(pay.LUA), url, "--", str(bodies)]
    out = subprocess.run(cmd, capture_output=True, text=True, timeout=duration + 60).stdout
    data = json.loads(next(ln for ln in out.splitlines() if ln.startswith("WRK_JSON "))[9:])
    return summarise(data, " ".join(cmd[:-2]))


def summarise(data: dict[str, Any], cmd: str) -> dict[str, Any]:
    seconds = data["duration_us"] / 1e6
    lat = data["latency_us"]
    return {
        "requests": data["requests"],
        "rps": round(data["requests"] / seconds, 1),
        **{f"{k}_ms": round(lat[k] / 1000, 2) for k in ("p50", "p90", "p99", "p999", "max")},
        "errors": sum(data["errors"].values()),
        "command": cmd.replace(str(REPO) + "/", ""),
    }


def signed_file(path: Path, count: int, key: Any) -> Path:
    from tessera.payments.providers import signing

    with path.open("w") as out:
        for _ in range(count):
            body = pay.paid_body(str(uuid.uuid4()), 15000, reference=str(uuid.uuid4()))
            out.write(f"{signing.sign(body, key)}\t{body.decode()}\n")
    return path


def cpu_seconds(pid: int) -> float:
    total = 0.0
    try:
        leader = psutil.Process(pid)
        for proc in [leader, *leader.children(recursive=True)]:
            times = proc.cpu_times()
            total += times.user + times.system
    except psutil.NoSuchProcess:
        pass
    return total


def main() -> int:  # noqa: PLR0912, PLR0915
    parser = argparse.ArgumentParser()
    parser.add_argument("--ab", default="base,bt1")
    parser.add_argument("--rounds", type=int, default=3)
    parser.add_argument("--duration", type=int, default=8)
    parser.add_argument("--connections", type=int, default=64)
    parser.add_argument("--targets", default="health,intake")
    parser.add_argument("--probe", action="store_true")
    parser.add_argument(
        "--cold",
        action="store_true",
        help="no warm-up: the first round meets workers that have served one request between "
        "them (as bench/payments/run.py's /health/ baseline does)",
    )
    parser.add_argument("--bodies", type=int, default=9000)
    args = parser.parse_args()
    names = args.ab.split(",")
    targets = args.targets.split(",")
    install_signal_handlers()
    wrk = ensure_wrk()
    from cryptography.fernet import Fernet

    from tessera.payments.providers import signing

    stamp = datetime.now(UTC).strftime("%Y%m%dT%H%M%SZ")
    logs = OUT / "tmp" / f"tail-{stamp}"
    logs.mkdir(parents=True, exist_ok=True)
    static = Path(tempfile.mkdtemp(prefix="tail-bench-static-"))
    env = tessera_env(static)
    env.update(
        {
            "DATABASE_URL": f"{PG}/{DB}",
            "REDIS_URL": REDIS,
            "CELERY_BROKER_URL": BROKER,
            "PAYMENTS_PROVIDER": "sandbox",
            "PAYMENTS_SANDBOX_ALLOWED": "true",
            "PAYMENTS_SANDBOX_PRIVATE_KEY": signing.private_pem(signing.generate_private_key()),
            "PAYMENTS_ENCRYPTION_KEYS": Fernet.generate_key().decode(),
            "PAYMENTS_PUBLIC_URL": "http://127.0.0.1:18199",
            "TESSERA_VAR_DIR": str(static / "var"),
            "RATE_LIMIT_ENABLED": "false",
            "DB_POOL_MAX_SIZE": "8",
            "TAIL_PROBE_DIR": str(logs),
        }
    )
    pay.psql(f"DROP DATABASE IF EXISTS {DB} WITH (FORCE)")
    pay.psql(f"CREATE DATABASE {DB}")
    manage(["migrate", "--noinput"], env, logs / "migrate.log")
    manage(["collectstatic", "--noinput", "--clear"], env, logs / "collectstatic.log")
    os.environ.update(env)
    import django

    django.setup()
    bodies: dict[str, Path] = {}
    if "intake" in targets:
        print("signing webhook bodies ...", flush=True)
        # Every measured run gets bodies of its own: a resent body is a duplicate delivery,
        # a different (and dearer) path than a new one.
        key = signing.private_key_from_pem(env["PAYMENTS_SANDBOX_PRIVATE_KEY"])
        for name in ["warm", *(f"{n}-{r}" for r in range(args.rounds) for n in names)]:
            bodies[name] = signed_file(logs / f"{name}.tsv", args.bodies, key)
    target = "bench.tail.probe:application" if args.probe else "config.wsgi:application"
    registry = Registry()
    results: dict[str, Any] = {
        "stamp": stamp,
        "machine": describe(REPO, wrk, wrk_version(wrk)),
        "args": vars(args),
        "command": " ".join(["bench/tail/run.py", *sys.argv[1:]]),
        "variants": {},
        "runs": [],
    }
    try:
        servers = {}
        for name in names:
            port = next(PORTS)
            venv = dict(env)
            venv.update(VARIANTS[name][1])
            cmd = command(name, port, target)
            managed = registry.start(
                name, cmd, env=venv, cwd=REPO, log_path=logs / f"web-{name}.log"
            )
            servers[name] = (managed, port)
            results["variants"][name] = {
                "command": " ".join(cmd).replace(str(REPO) + "/", ""),
                "env": VARIANTS[name][1],
            }
        for managed, port in servers.values():
            wait_http(managed, port, "/health/", timeout=120)
            if args.cold:
                continue
            wrk_get(wrk, f"http://127.0.0.1:{port}/health/", 2, args.connections)
            if "intake" in targets:
                wrk_post(
                    wrk,
                    f"http://127.0.0.1:{port}/webhooks/sandbox",
                    bodies["warm"],
                    2,
                    args.connections,
                )
        for rnd in range(args.rounds):
            for tgt in targets:
                for name, (managed, port) in servers.items():
                    cpu0 = cpu_seconds(managed.pid)
                    if tgt == "health":
                        row = wrk_get(
                            wrk,
                            f"http://127.0.0.1:{port}/health/",
                            args.duration,
                            args.connections,
                        )
                    else:
                        row = wrk_post(
                            wrk,
                            f"http://127.0.0.1:{port}/webhooks/sandbox",
                            bodies[f"{name}-{rnd}"],
                            args.duration,
                            args.connections,
                        )
                    cpu = cpu_seconds(managed.pid) - cpu0
                    row.update(
                        round=rnd + 1,
                        variant=name,
                        target=tgt,
                        server_cpu_us_per_req=round(cpu * 1e6 / max(1, row["requests"]), 1),
                    )
                    results["runs"].append(row)
                    print(
                        f"  r{rnd + 1} {tgt:6} {name:12} {row['rps']:8.1f} req/s  "
                        f"p50 {row['p50_ms']:6.2f}  p90 {row['p90_ms']:6.2f}  "
                        f"p99 {row['p99_ms']:7.2f}  p99.9 {row['p999_ms']:7.2f}  "
                        f"max {row['max_ms']:7.2f}  cpu {row['server_cpu_us_per_req']} us/req  "
                        f"err {row['errors']}",
                        flush=True,
                    )
    finally:
        registry.stop_all()
        try:
            pay.purge()
        except Exception as exc:  # noqa: BLE001 - best effort
            print(f"  ! could not purge the queue: {exc}")
        from django.db import connections

        connections.close_all()
        pay.psql(f"DROP DATABASE IF EXISTS {DB} WITH (FORCE)")
    OUT.mkdir(parents=True, exist_ok=True)
    (OUT / f"tail-{stamp}.json").write_text(json.dumps(results, indent=2, default=str))
    (OUT / f"tail-{stamp}.md").write_text(markdown(results))
    print(markdown(results))
    return 0


def markdown(results: dict[str, Any]) -> str:
    lines = [
        f"# Web tail — {results['stamp']}",
        "",
        f"Machine: {one_line(results['machine'])}",
        "",
        f"Command: `{results['command']}`",
        "",
        "Variants:",
        "",
    ]
    for name, variant in results["variants"].items():
        env = " ".join(f"{k}={v}" for k, v in variant["env"].items())
        lines.append(f"- `{name}`: `{variant['command']}` {env}")
    lines += ["", "Every run (interleaved, in order):", ""]
    cols = ["round", "target", "variant", "req/s", "p50", "p90", "p99", "p99.9", "max", "cpu"]
    rows = [
        [
            r["round"],
            r["target"],
            r["variant"],
            r["rps"],
            r["p50_ms"],
            r["p90_ms"],
            r["p99_ms"],
            r["p999_ms"],
            r["max_ms"],
            r["server_cpu_us_per_req"],
        ]
        for r in results["runs"]
    ]
    lines += md_table(cols, rows)
    lines += ["", "Medians over rounds (ms; cpu = server CPU µs per request):", ""]
    med_rows = []
    for tgt in dict.fromkeys(r["target"] for r in results["runs"]):
        for name in results["variants"]:
            mine = [r for r in results["runs"] if r["target"] == tgt and r["variant"] == name]
            if not mine:
                continue
            med_rows.append(
                [tgt, name]
                + [
                    round(statistics.median(r[k] for r in mine), 2)
                    for k in ("rps", "p50_ms", "p90_ms", "p99_ms", "p999_ms", "max_ms")
                ]
                + [round(statistics.median(r["server_cpu_us_per_req"] for r in mine), 1)]
            )
    lines += md_table(["target", "variant", *cols[3:]], med_rows)
    return "\n".join(lines) + "\n"


if __name__ == "__main__":
    raise SystemExit(main())
