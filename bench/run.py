"""Tessera's HTTP and memory benchmark. `make bench` runs it; see bench/README.md.

    .venv/bin/python bench/run.py                 # full run (about 18 minutes)
    .venv/bin/python bench/run.py --quick         # smoke run (about 3 minutes)
    .venv/bin/python bench/run.py --only compare --server granian-wsgi-bt2

Phases, in order (all by default):
  servers  Tessera's /api/ping and a plain Django view on every server configuration,
           interleaved; picks the production server by the measured figures.
  compare  ceiling (bare WSGI), plain Django, DRF and Tessera on the chosen server,
           interleaved; ratios against the baselines of the same run.
  attribution
           Tessera with its rate limit and/or access log switched off (by its own
           settings) on the chosen server, beside plain Django: where Tessera's time goes.
  idle     idle RSS of one web worker of the chosen server and of one Celery worker.

Results: bench/results/<UTC stamp>.json and .md, and bench/results/latest.md.
Every process started here is stopped at the end, on an error and on Ctrl-C.
"""

from __future__ import annotations

import argparse
import json
import shutil
import sys
import time
from datetime import UTC, datetime
from pathlib import Path
from typing import Any

from benchlib import measure, report, stack
from benchlib.machine import describe, one_line
from benchlib.procs import BenchError, Registry, install_signal_handlers
from benchlib.wrk import ensure_wrk, wrk_version

# The production server chosen in docs/decisions/0002-production-server.md; used by the
# compare and idle phases when the servers phase does not run (or with --server).
DEFAULT_SERVER = "granian-wsgi-bt2"
PHASES = ("servers", "compare", "attribution", "idle")
RESULTS_DIR = stack.BENCH / "results"
SELECTION_APPS = ("tessera", "django_plain")
COMPARE_APPS = ("ceiling", "django_plain", "drf", "tessera")
ATTRIBUTION_APPS = (
    "tessera",
    "tessera_no_ratelimit",
    "tessera_no_accesslog",
    "tessera_neither",
    "django_plain",
)


def _csv(value: str) -> list[str]:
    return [part.strip() for part in value.split(",") if part.strip()]


def parse_args(argv: list[str] | None = None) -> argparse.Namespace:
    parser = argparse.ArgumentParser(
        description="Benchmark Tessera against its baselines (see bench/README.md).",
    )
    parser.add_argument(
        "--quick",
        action="store_true",
        help="smoke run: 3 s per target, 1 round, 1 s warm-up (explicit options still win)",
    )
    parser.add_argument(
        "--duration",
        type=float,
        help="seconds of load per target per round (default 10; 3 with --quick)",
    )
    parser.add_argument("--rounds", type=int, help="interleaved rounds (default 3; 1 with --quick)")
    parser.add_argument(
        "--warmup", type=float, help="warm-up seconds per target (default 3; 1 with --quick)"
    )
    parser.add_argument(
        "--connections",
        type=int,
        default=64,
        help="wrk connections (default 64; wrk runs one thread)",
    )
    parser.add_argument(
        "--only",
        type=_csv,
        default=list(PHASES),
        help=f"comma-separated phases to run, from {', '.join(PHASES)} (default: all)",
    )
    parser.add_argument(
        "--servers",
        type=_csv,
        default=list(stack.SERVERS),
        help="comma-separated server configurations for the servers phase "
        f"(default: all of {', '.join(stack.SERVERS)})",
    )
    parser.add_argument(
        "--server",
        choices=list(stack.SERVERS),
        help="server for the compare and idle phases (default: the one the servers phase "
        f"picks in this run, else {DEFAULT_SERVER} from docs/decisions/0002)",
    )
    parser.add_argument(
        "--quiet-wait",
        type=float,
        help="before each run, wait up to this many seconds for other tenants' CPU bursts "
        "to pass (default 20; 3 with --quick; 0 disables)",
    )
    parser.add_argument(
        "--render",
        metavar="STAMP",
        help="only rewrite bench/results/STAMP.md and latest.md from STAMP.json, then exit",
    )
    parser.add_argument(
        "--keep-logs",
        action="store_true",
        help="keep server logs under bench/results/tmp/ after a successful run",
    )
    args = parser.parse_args(argv)
    args.duration = args.duration or (3.0 if args.quick else 10.0)
    args.rounds = args.rounds or (1 if args.quick else 3)
    args.warmup = args.warmup if args.warmup is not None else (1.0 if args.quick else 3.0)
    if args.quiet_wait is None:
        args.quiet_wait = 3.0 if args.quick else 20.0
    unknown = [phase for phase in args.only if phase not in PHASES]
    if unknown:
        parser.error(f"unknown phase(s) {', '.join(unknown)}; choose from {', '.join(PHASES)}")
    unknown = [name for name in args.servers if name not in stack.SERVERS]
    if unknown:
        parser.error(
            f"unknown server(s) {', '.join(unknown)}; choose from {', '.join(stack.SERVERS)}"
        )
    return args


def _public_env(env: dict[str, str]) -> dict[str, str]:
    hidden = {"DJANGO_SECRET_KEY": "<60 random characters>"}
    return {
        key: hidden.get(key, value)
        for key, value in sorted(env.items())
        if key not in {"PATH", "HOME", "LANG", "LC_ALL", "TMPDIR", "TZ", "USER"}
    }


def _measure(
    registry: Registry,
    wrk: str,
    args: argparse.Namespace,
    env: dict[str, str],
    *,
    log_dir: Path,
    pairs: list[Any],
) -> tuple[list[Any], dict[str, Any]]:
    """Start every (app, server) pair, load them interleaved, stop them: the runs and figures."""
    runnings = measure.start_all(registry, pairs, tessera_env=env, log_dir=log_dir)
    results: dict[str, Any] = {}
    try:
        results = measure.interleaved(
            wrk,
            runnings,
            rounds=args.rounds,
            duration=args.duration,
            warmup=args.warmup,
            connections=args.connections,
            quiet_wait=args.quiet_wait,
        )
    finally:
        measure.stop_and_tally(registry, runnings, results)
    return runnings, results


def run_selection(
    registry: Registry, wrk: str, args: argparse.Namespace, env: dict[str, str], log_dir: Path
) -> dict[str, Any]:
    servers = args.servers
    print(f"\n== servers: {', '.join(servers)} x {', '.join(SELECTION_APPS)}")
    pairs = [(app, stack.SERVERS[name]) for name in servers for app in SELECTION_APPS]
    runnings, results = _measure(registry, wrk, args, env, log_dir=log_dir / "servers", pairs=pairs)
    selection: dict[str, Any] = {
        "servers": servers,
        "apps": list(SELECTION_APPS),
        "commands": {
            running.key: " ".join(str(arg) for arg in running.managed.proc.args)
            for running in runnings
        },
        "results": results,
    }
    selection["choice"] = measure.choose_server(results, servers)
    print(f"  chosen server: {selection['choice']['chosen']}")
    return selection


def run_comparison(
    registry: Registry,
    wrk: str,
    args: argparse.Namespace,
    env: dict[str, str],
    log_dir: Path,
    *,
    server_name: str,
    source: str,
) -> dict[str, Any]:
    server = stack.SERVERS[server_name]
    print(f"\n== compare on {server_name}: {', '.join(COMPARE_APPS)}")
    pairs = [(app, server) for app in COMPARE_APPS]
    runnings, results = _measure(registry, wrk, args, env, log_dir=log_dir / "compare", pairs=pairs)
    key = f"{server_name}/{{}}".format
    ratios = {
        "tessera/django_plain": measure.paired_ratios(results, key("tessera"), key("django_plain")),
        "tessera/drf": measure.paired_ratios(results, key("tessera"), key("drf")),
        "django_plain/ceiling": measure.paired_ratios(results, key("django_plain"), key("ceiling")),
        "drf/ceiling": measure.paired_ratios(results, key("drf"), key("ceiling")),
        "tessera/ceiling": measure.paired_ratios(results, key("tessera"), key("ceiling")),
    }
    cpu = {app: results[key(app)]["summary"]["server_cpu_us_per_req"] for app in COMPARE_APPS}
    return {
        "server": server_name,
        "server_source": source,
        "apps": list(COMPARE_APPS),
        "commands": {
            running.key: " ".join(str(arg) for arg in running.managed.proc.args)
            for running in runnings
        },
        "results": results,
        "ratios": ratios,
        "cpu_us_per_request": cpu,
        "targets": report.TARGETS,
    }


def run_attribution(
    registry: Registry,
    wrk: str,
    args: argparse.Namespace,
    env: dict[str, str],
    log_dir: Path,
    *,
    server_name: str,
) -> dict[str, Any]:
    server = stack.SERVERS[server_name]
    print(f"\n== attribution on {server_name}: {', '.join(ATTRIBUTION_APPS)}")
    pairs = [(app, server) for app in ATTRIBUTION_APPS]
    _runnings, results = _measure(
        registry, wrk, args, env, log_dir=log_dir / "attribution", pairs=pairs
    )
    full = results[f"{server_name}/tessera"]["summary"]["server_cpu_us_per_req"]
    saved = {
        app: round(full - results[f"{server_name}/{app}"]["summary"]["server_cpu_us_per_req"], 1)
        for app in ATTRIBUTION_APPS
    }
    return {
        "server": server_name,
        "apps": list(ATTRIBUTION_APPS),
        "results": results,
        "cpu_us_per_request_saved_vs_tessera": saved,
    }


def run_idle(
    registry: Registry, env: dict[str, str], log_dir: Path, server_name: str
) -> dict[str, Any]:
    print(f"\n== idle memory: one {server_name} worker, one Celery worker")
    web = measure.idle_web(
        registry, stack.SERVERS[server_name], tessera_env=env, log_dir=log_dir / "idle"
    )
    print(f"  web worker RSS {web['worker_rss_mb']:.1f} MB")
    celery = measure.idle_celery(registry, tessera_env=env, log_dir=log_dir / "idle")
    print(
        f"  celery parent {celery['parent_rss_mb']:.1f} MB + child "
        f"{celery['pool_children_rss_mb']:.1f} MB = {celery['sum_rss_mb']:.1f} MB"
    )
    return {"web": web, "celery": celery}


def _tidy(tmp_dir: Path, *, keep_logs: bool, complete: bool) -> None:
    shutil.rmtree(tmp_dir / "static", ignore_errors=True)
    if complete and not keep_logs:
        shutil.rmtree(tmp_dir, ignore_errors=True)
        parent = tmp_dir.parent
        if parent.exists() and not any(parent.iterdir()):
            parent.rmdir()
    else:
        print(f"logs kept in {tmp_dir}")


def run_phases(
    registry: Registry, args: argparse.Namespace, results: dict[str, Any], tmp_dir: Path
) -> None:
    log_dir = tmp_dir / "logs"
    wrk = ensure_wrk()
    results["machine"] = describe(stack.REPO, wrk, wrk_version(wrk))
    print(f"machine: {one_line(results['machine'])}")
    env = stack.tessera_env(static_root=tmp_dir / "static")
    results["tessera_env"] = _public_env(env)
    print("preparing: database, migrations, static files")
    stack.prepare_tessera(env, log_dir)

    server_name, source = args.server, "--server"
    if "servers" in args.only:
        results["selection"] = run_selection(registry, wrk, args, env, log_dir)
        if server_name is None:
            server_name = results["selection"]["choice"]["chosen"]
            source = "picked by the servers phase of this run"
    if server_name is None:
        server_name, source = DEFAULT_SERVER, "docs/decisions/0002-production-server.md"
    if "compare" in args.only:
        results["comparison"] = run_comparison(
            registry, wrk, args, env, log_dir, server_name=server_name, source=source
        )
    if "attribution" in args.only:
        results["attribution"] = run_attribution(
            registry, wrk, args, env, log_dir, server_name=server_name
        )
    if "idle" in args.only:
        results["idle"] = run_idle(registry, env, log_dir, server_name)
    results["complete"] = True


def render(stamp: str) -> int:
    json_path = RESULTS_DIR / f"{stamp.removesuffix('.json')}.json"
    results = json.loads(json_path.read_text())
    report.write_markdown(results, RESULTS_DIR)
    print(f"rewrote {json_path.with_suffix('.md').relative_to(stack.REPO)} and latest.md")
    return 0


def main(argv: list[str] | None = None) -> int:
    args = parse_args(argv)
    if args.render:
        return render(args.render)
    install_signal_handlers()
    started = datetime.now(tz=UTC)
    stamp = started.strftime("%Y%m%dT%H%M%SZ")
    tmp_dir = RESULTS_DIR / "tmp" / stamp
    registry = Registry()
    results: dict[str, Any] = {
        "stamp": stamp,
        "started_utc": started.isoformat().replace("+00:00", "Z"),
        "command": " ".join([".venv/bin/python", "bench/run.py", *sys.argv[1:]]),
        "settings": {
            "quick": args.quick,
            "duration": args.duration,
            "rounds": args.rounds,
            "warmup": args.warmup,
            "connections": args.connections,
            "quiet_wait": args.quiet_wait,
            "wrk_threads": 1,
            "workers": stack.WORKERS,
            "phases": args.only,
        },
        "complete": False,
        "error": None,
        "selection": None,
        "comparison": None,
        "attribution": None,
        "idle": None,
    }
    try:
        run_phases(registry, args, results, tmp_dir)
    except KeyboardInterrupt:
        results["error"] = "interrupted (Ctrl-C)"
    except SystemExit as exc:
        results["error"] = f"stopped by a signal (exit {exc.code})"
    except BenchError as exc:
        results["error"] = str(exc)
    except Exception as exc:
        results["error"] = f"{type(exc).__name__}: {exc}"
        raise
    finally:
        print("\nstopping every process this run started")
        registry.stop_all()
        results["finished_utc"] = datetime.now(tz=UTC).isoformat().replace("+00:00", "Z")
        if "machine" in results:
            json_path, md_path = report.write(results, RESULTS_DIR)
            latest = ", bench/results/latest.md" if results["complete"] else ""
            print(
                f"results: {json_path.relative_to(stack.REPO)}, "
                f"{md_path.relative_to(stack.REPO)}{latest}"
            )
        _tidy(tmp_dir, keep_logs=args.keep_logs, complete=results["complete"])
    if results["error"]:
        print(f"\nthe run did not complete: {results['error']}", file=sys.stderr)
        return 1
    print("\n" + (RESULTS_DIR / "latest.md").read_text())
    return 0


if __name__ == "__main__":
    t0 = time.monotonic()
    code = main()
    print(f"({time.monotonic() - t0:.0f}s)")
    sys.exit(code)
