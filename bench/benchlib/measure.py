"""The measurements: interleaved load rounds, medians, the server choice, idle memory."""

from __future__ import annotations

import json
import re
import socket
import statistics
import subprocess
import time
from collections.abc import Sequence
from pathlib import Path
from typing import Any

import psutil

from benchlib.procs import BenchError, Managed, Registry, http_get, tail, wait_http
from benchlib.sampler import TreeSampler
from benchlib.stack import (
    ALL_APPS,
    APPS,
    CELERY_BROKER_URL,
    REPO,
    VENV_BIN,
    Running,
    Server,
    start_target,
    wait_ready,
)
from benchlib.wrk import run_wrk

NOISE = 0.05  # differences under ~5% are noise on these machines (PERFORMANCE.md)
MAX_ERROR_RATE = 0.001  # a configuration failing more than 0.1% of requests is not a candidate


def preflight(running: Running) -> dict[str, Any]:
    """One request before any load: it must be a 200 carrying the ping envelope."""
    status, headers, body = http_get(running.port, running.app.path)
    try:
        payload = json.loads(body)
    except ValueError:
        payload = None
    ok = (
        status == 200
        and isinstance(payload, dict)
        and payload.get("status") == "success"
        and (payload.get("data") or {}).get("pong") is True
    )
    if not ok:
        raise BenchError(
            f"{running.key}: {running.url} answered HTTP {status} {body[:300]!r}, "
            f"not the ping envelope; log {running.managed.log_path}"
        )
    return {
        "status": status,
        "body_bytes": len(body),
        "body": body.decode(errors="replace"),
        "headers": {name.lower(): value for name, value in headers},
    }


def wait_for_quiet(max_wait: float, *, threshold: float = 0.5) -> dict[str, float]:
    """Before a run, wait (at most `max_wait` seconds) until the machine's busy CPU, sampled
    over 0.5 s while our servers are idle, falls below `threshold` cores: other tenants'
    bursts (a test suite, a build) then fall between runs rather than inside them."""
    started = time.monotonic()
    while True:
        busy = psutil.cpu_percent(interval=0.5) / 100 * (psutil.cpu_count() or 1)
        waited = time.monotonic() - started
        if busy < threshold or waited >= max_wait:
            return {"busy_cores_before": round(busy, 2), "waited_s": round(waited, 1)}
        time.sleep(0.5)


def measure_once(
    wrk: str, running: Running, *, duration: float, connections: int
) -> dict[str, Any]:
    if not running.managed.alive():
        raise BenchError(
            f"{running.key} has exited; log {running.managed.log_path}:\n"
            f"{tail(running.managed.log_path)}"
        )
    with TreeSampler(running.managed) as sampler:
        figures = run_wrk(wrk, running.url, duration=duration, connections=connections)
    usage = sampler.result()
    requests = max(1, figures["requests"])
    return {
        "rps": round(figures["rps"], 1),
        "requests": figures["requests"],
        "seconds": round(figures["seconds"], 3),
        "p50_ms": figures["latency_us"]["p50"] / 1000,
        "p90_ms": figures["latency_us"]["p90"] / 1000,
        "p99_ms": figures["latency_us"]["p99"] / 1000,
        "p999_ms": figures["latency_us"]["p999"] / 1000,
        "mean_ms": round(figures["latency_us"]["mean"] / 1000, 3),
        "max_ms": figures["latency_us"]["max"] / 1000,
        "errors": figures["error_total"],
        "non_2xx": figures["non_2xx"],
        "socket_errors": figures["socket_errors"],
        "error_detail": figures["errors"],
        "server_cpu_s": usage["server_cpu_s"],
        "server_cpu_us_per_req": round(usage["server_cpu_s"] * 1e6 / requests, 1),
        "wrk_cpu_s": figures["wrk_cpu_s"],
        "system_busy_cpu_s": usage["system_busy_cpu_s"],
        # CPU the rest of the machine used meanwhile (other tenants, Redis, PostgreSQL):
        # high values flag a run measured under contention.
        "other_cpu_s": round(
            usage["system_busy_cpu_s"] - usage["server_cpu_s"] - figures["wrk_cpu_s"], 3
        ),
        "peak_tree_rss_mb": usage["peak_tree_rss_mb"],
        "peak_process_rss_mb": usage["peak_process_rss_mb"],
        "processes": usage["processes"],
        "wrk_command": figures["command"],
    }


def _median(values: Sequence[float]) -> float:
    return round(float(statistics.median(values)), 3) if values else 0.0


def summarize(runs: list[dict[str, Any]]) -> dict[str, Any]:
    requests = sum(run["requests"] for run in runs)
    errors = sum(run["errors"] for run in runs)
    return {
        "rounds": len(runs),
        "rps": _median([run["rps"] for run in runs]),
        "rps_min": min(run["rps"] for run in runs),
        "rps_max": max(run["rps"] for run in runs),
        "p50_ms": _median([run["p50_ms"] for run in runs]),
        "p99_ms": _median([run["p99_ms"] for run in runs]),
        "p999_ms": _median([run["p999_ms"] for run in runs]),
        "errors": errors,
        "non_2xx": sum(run["non_2xx"] for run in runs),
        "socket_errors": sum(run["socket_errors"] for run in runs),
        "requests": requests,
        "error_rate": round(errors / requests, 6) if requests else 0.0,
        "server_cpu_s": _median([run["server_cpu_s"] for run in runs]),
        "server_cpu_us_per_req": _median([run["server_cpu_us_per_req"] for run in runs]),
        "wrk_cpu_s": _median([run["wrk_cpu_s"] for run in runs]),
        "system_busy_cpu_s": _median([run["system_busy_cpu_s"] for run in runs]),
        "other_cpu_s": _median([run["other_cpu_s"] for run in runs]),
        "peak_tree_rss_mb": max(run["peak_tree_rss_mb"] for run in runs),
        "peak_process_rss_mb": max(run["peak_process_rss_mb"] for run in runs),
    }


def start_all(
    registry: Registry,
    pairs: list[tuple[str, Server]],
    *,
    tessera_env: dict[str, str],
    log_dir: Path,
) -> list[Running]:
    """Start every (app, server) pair at once, then wait for each and check its answer."""
    runnings = [
        start_target(registry, ALL_APPS[app], server, tessera=tessera_env, log_dir=log_dir)
        for app, server in pairs
    ]
    for running in runnings:
        wait_ready(running)
        print(f"  up: {running.key:34} pid {running.managed.pid:<7} {running.url}")
    return runnings


def interleaved(
    wrk: str,
    runnings: list[Running],
    *,
    rounds: int,
    duration: float,
    warmup: float,
    connections: int,
    cooldown: float = 1.0,
    quiet_wait: float = 0.0,
) -> dict[str, dict[str, Any]]:
    """Warm every target, then run rounds of A B C D ...; return per-target runs and medians."""
    results: dict[str, dict[str, Any]] = {}
    for running in runnings:
        results[running.key] = {
            "app": running.app.name,
            "server": running.server.name,
            "preflight": preflight(running),
            "runs": [],
        }
    if warmup > 0:
        print(f"  warming each target for {warmup:.0f}s")
        for running in runnings:
            figures = run_wrk(wrk, running.url, duration=warmup, connections=connections)
            # Kept: a failure that only happens on the first concurrent requests shows here.
            results[running.key]["warmup"] = {
                "rps": round(figures["rps"], 1),
                "requests": figures["requests"],
                "errors": figures["error_total"],
                "non_2xx": figures["non_2xx"],
                "socket_errors": figures["socket_errors"],
            }
            if figures["error_total"]:
                print(f"  ! {running.key}: {figures['error_total']} errors during warm-up")
            time.sleep(cooldown)
    total = rounds * len(runnings)
    done = 0
    for round_no in range(1, rounds + 1):
        for running in runnings:
            done += 1
            quiet = wait_for_quiet(quiet_wait) if quiet_wait > 0 else {}
            run = measure_once(wrk, running, duration=duration, connections=connections)
            run["round"] = round_no
            run.update(quiet)
            results[running.key]["runs"].append(run)
            print(
                f"  [{done:>3}/{total}] round {round_no} {running.key:34} "
                f"{run['rps']:>9,.0f} req/s  p50 {run['p50_ms']:6.2f} ms  "
                f"p99 {run['p99_ms']:7.2f} ms  err {run['errors']:>5}  "
                f"cpu {run['server_cpu_us_per_req']:6.0f} us/req"
            )
            time.sleep(cooldown)
    for running in runnings:
        entry = results[running.key]
        entry["summary"] = summarize(entry["runs"])
        entry["alive_after"] = running.managed.alive()
    return results


_ACCESS_STATUS = re.compile(rb'"status": (\d{3})')


def access_log_statuses(log_path: Path) -> dict[str, int]:
    """Status codes Tessera's own access log recorded over the server's whole life
    (readiness probe, preflight, warm-up and measured runs)."""
    counts: dict[str, int] = {}
    try:
        with log_path.open("rb") as log:
            for line in log:
                if b'"tessera.access"' not in line:
                    continue
                match = _ACCESS_STATUS.search(line)
                if match:
                    code = match.group(1).decode()
                    counts[code] = counts.get(code, 0) + 1
    except OSError:
        return {}
    return dict(sorted(counts.items()))


def stop_and_tally(
    registry: Registry, runnings: list[Running], results: dict[str, dict[str, Any]]
) -> None:
    """Stop the servers; attach the status codes Tessera logged to each Tessera target."""
    for running in runnings:
        registry.stop(running.managed)
        if running.app.name.startswith("tessera") and running.key in results:
            results[running.key]["server_logged_statuses"] = access_log_statuses(
                running.managed.log_path
            )


def paired_ratios(
    results: dict[str, dict[str, Any]], numerator: str, denominator: str
) -> dict[str, Any]:
    """rps(numerator) / rps(denominator): ratio of medians, and each round's own ratio."""
    num, den = results[numerator], results[denominator]
    per_round = [
        round(a["rps"] / b["rps"], 3)
        for a, b in zip(num["runs"], den["runs"], strict=False)
        if b["rps"]
    ]
    den_rps = den["summary"]["rps"]
    return {
        "ratio": round(num["summary"]["rps"] / den_rps, 3) if den_rps else None,
        "per_round": per_round,
    }


def choose_server(selection: dict[str, dict[str, Any]], servers: list[str]) -> dict[str, Any]:
    """The rule: among configurations failing no more than 0.1% of requests, those within
    5% (noise) of the best Tessera req/s; of these, the lowest Tessera p99; then the lowest
    server CPU per request."""
    rows = []
    for name in servers:
        entry = selection.get(f"{name}/tessera")
        if entry is None:
            continue
        summary = entry["summary"]
        rows.append(
            {
                "server": name,
                "rps": summary["rps"],
                "p99_ms": summary["p99_ms"],
                "cpu_us_per_req": summary["server_cpu_us_per_req"],
                "error_rate": summary["error_rate"],
            }
        )
    eligible = [row for row in rows if row["error_rate"] <= MAX_ERROR_RATE] or rows
    if not eligible:
        raise BenchError("no server configuration produced Tessera figures")
    best = max(row["rps"] for row in eligible)
    close = [row for row in eligible if row["rps"] >= best * (1 - NOISE)]
    close.sort(key=lambda row: (row["p99_ms"], row["cpu_us_per_req"]))
    return {
        "chosen": close[0]["server"],
        "rule": (
            "eligible: Tessera error rate <= 0.1%; candidates: Tessera req/s within 5% of "
            "the best; chosen: lowest Tessera p99, then lowest server CPU per request"
        ),
        "best_rps": best,
        "candidates": [row["server"] for row in close],
        "table": rows,
    }


# --- idle memory ----------------------------------------------------------------------------


def _mem(proc: psutil.Process) -> dict[str, Any]:
    info = proc.memory_full_info()
    try:
        cmdline = " ".join(proc.cmdline())[:160]
    except psutil.Error:
        cmdline = ""
    return {
        "pid": proc.pid,
        "cmdline": cmdline,
        "rss_mb": round(info.rss / 2**20, 1),
        "uss_mb": round(info.uss / 2**20, 1),
        "pss_mb": round(getattr(info, "pss", 0) / 2**20, 1),
    }


def _settle(managed: Managed, *, seconds: float = 3.0, samples: int = 5) -> list[dict[str, Any]]:
    """Let the tree sit idle, then take the median RSS of each process over a few samples."""
    time.sleep(seconds)
    per_pid: dict[int, list[dict[str, Any]]] = {}
    for _ in range(samples):
        for proc in managed.tree():
            try:
                per_pid.setdefault(proc.pid, []).append(_mem(proc))
            except psutil.Error:
                continue
        time.sleep(1.0)
    settled = []
    for records in per_pid.values():
        pick = sorted(records, key=lambda r: r["rss_mb"])[len(records) // 2]
        settled.append(pick)
    return settled


def idle_web(
    registry: Registry, server: Server, *, tessera_env: dict[str, str], log_dir: Path
) -> dict[str, Any]:
    """One worker of the chosen server with Tessera: ready, warmed, then idle RSS."""
    running = start_target(
        registry, APPS["tessera"], server, tessera=tessera_env, log_dir=log_dir, workers=1
    )
    running.managed.name = f"idle/{server.name}/tessera"
    try:
        wait_http(running.managed, running.port, "/health/", timeout=90)
        for _ in range(10):
            for path in ("/health/", "/api/ping"):
                http_get(running.port, path)
        processes = _settle(running.managed)
    finally:
        registry.stop(running.managed)
    leader_pid = running.managed.pid
    workers = [p for p in processes if p["pid"] != leader_pid] or processes
    leader = [p for p in processes if p["pid"] == leader_pid]
    worker_rss = max(p["rss_mb"] for p in workers)
    return {
        "server": server.name,
        "command": " ".join(str(arg) for arg in running.managed.proc.args),
        "warm_requests": 20,
        "worker_rss_mb": worker_rss,
        "worker": workers,
        "leader": leader,
        "tree_rss_mb": round(sum(p["rss_mb"] for p in processes), 1),
        "target_worker_rss_mb": 120,
    }


def idle_celery(
    registry: Registry, *, tessera_env: dict[str, str], log_dir: Path
) -> dict[str, Any]:
    """One Celery worker (prefork, concurrency 1) on the Redis broker: RSS once idle."""
    env = dict(tessera_env)
    env["CELERY_BROKER_URL"] = CELERY_BROKER_URL
    node = f"bench-{int(time.time())}@{socket.gethostname()}"
    cmd = [
        str(VENV_BIN / "celery"),
        "-A",
        "config",
        "worker",
        "--concurrency",
        "1",
        "--pool",
        "prefork",
        "-l",
        "WARNING",
        "-n",
        node,
    ]
    managed = registry.start("idle/celery", cmd, env=env, cwd=REPO, log_path=log_dir / "celery.log")
    try:
        deadline = time.monotonic() + 90
        ready = False
        while time.monotonic() < deadline and not ready:
            if not managed.alive():
                raise BenchError(
                    f"celery exited early; {managed.log_path}:\n{tail(managed.log_path)}"
                )
            ping = subprocess.run(
                [
                    str(VENV_BIN / "celery"),
                    "-A",
                    "config",
                    "inspect",
                    "ping",
                    "-d",
                    node,
                    "--timeout",
                    "3",
                ],
                cwd=REPO,
                env=env,
                capture_output=True,
                text=True,
                timeout=60,
            )
            ready = ping.returncode == 0 and "pong" in ping.stdout
            if not ready:
                time.sleep(1)
        if not ready:
            raise BenchError(
                f"celery worker {node} did not answer a ping within 90s; "
                f"{managed.log_path}:\n{tail(managed.log_path)}"
            )
        processes = _settle(managed, seconds=5.0)
    finally:
        registry.stop(managed)
    parent = [p for p in processes if p["pid"] == managed.pid]
    children = [p for p in processes if p["pid"] != managed.pid]
    parent_rss = parent[0]["rss_mb"] if parent else 0.0
    child_rss = round(sum(p["rss_mb"] for p in children), 1)
    return {
        "command": " ".join(cmd),
        "broker": CELERY_BROKER_URL,
        "parent_rss_mb": parent_rss,
        "pool_children_rss_mb": child_rss,
        "sum_rss_mb": round(parent_rss + child_rss, 1),
        "sum_pss_mb": round(sum(p["pss_mb"] for p in processes), 1),
        "parent": parent,
        "children": children,
        "target_sum_rss_mb": 150,
    }
