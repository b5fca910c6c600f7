"""Authentication benchmarks on the production-like stack (issue 4's targets).

    .venv/bin/python bench/auth/run.py [--duration 10] [--rounds 3] [--connections 64]

Measures, in one run and from loopback with wrk:

- GET /api/auth/me with a valid access token on Tessera (config.settings.prod, granian WSGI,
  2 workers, --blocking-threads 2, PostgreSQL with Django's pool, Redis) against the same
  endpoint built with Django REST Framework + simplejwt on gunicorn sync (2 workers), the
  template seed's stack, reading the same tables; rounds interleaved, medians reported;
- POST /api/auth/refresh (each request rotates a distinct single-use refresh token) and its
  ratio to /me;
- POST /api/auth/login with the Argon2 cost in settings (logins/s over HTTP), and the hash
  cost alone at that setting and at Django's default, in this process.

Needs PostgreSQL (postgres@127.0.0.1:5432, trust) and Redis (127.0.0.1:6379); creates the
database tessera_bench_auth (or `$BENCH_DB_NAME`) afresh and uses Redis database 12 (or
`$BENCH_REDIS_DB`), ports from `$BENCH_PORTS` when set. Writes JSON and Markdown to
bench/results/ with the machine's description. Stops every process it started.
"""

from __future__ import annotations

import argparse
import json
import os
import platform
import re
import secrets
import shutil
import signal
import statistics
import string
import subprocess
import sys
import tempfile
import time
import urllib.request
from contextlib import suppress
from datetime import UTC, datetime
from importlib.metadata import PackageNotFoundError, version
from pathlib import Path
from typing import Any

REPO = Path(__file__).resolve().parents[2]
sys.path.insert(0, str(REPO / "bench"))
from benchlib.measure import wait_for_quiet  # noqa: E402
from benchlib.procs import free_port  # noqa: E402
from benchlib.stack import granian_command  # noqa: E402

from config.localprod import production_env  # noqa: E402

HERE = Path(__file__).resolve().parent
RESULTS = REPO / "bench" / "results"
VENV_BIN = REPO / ".venv" / "bin"
PYTHON = str(VENV_BIN / "python")
# A shared machine: BENCH_DB_NAME, BENCH_REDIS_DB and BENCH_PORTS name this run's own.
DB_NAME = os.environ.get("BENCH_DB_NAME", "tessera_bench_auth")
DB_URL = f"postgresql://postgres@127.0.0.1:5432/{DB_NAME}"
REDIS_DB = os.environ.get("BENCH_REDIS_DB", "12")
REDIS_URL = f"redis://127.0.0.1:6379/{REDIS_DB}"
PACKAGES = (
    "django",
    "django-ninja",
    "djangorestframework",
    "djangorestframework-simplejwt",
    "pyjwt",
    "granian",
    "gunicorn",
    "psycopg",
    "redis",
    "argon2-cffi",
    "pydantic",
    "orjson",
)

_children: list[subprocess.Popen[bytes]] = []


def log(message: str) -> None:
    print(f"[{datetime.now(tz=UTC).strftime('%H:%M:%S')}] {message}", flush=True)


# --- Machine --------------------------------------------------------------------------------


def machine() -> dict[str, Any]:
    cpu = "unknown"
    with suppress(OSError):
        for line in Path("/proc/cpuinfo").read_text().splitlines():
            if line.startswith("model name"):
                cpu = line.split(":", 1)[1].strip()
                break
    memory_kib = 0
    with suppress(OSError, ValueError, IndexError):
        memory_kib = int(Path("/proc/meminfo").read_text().split()[1])
    packages = {}
    for name in PACKAGES:
        try:
            packages[name] = version(name)
        except PackageNotFoundError:
            packages[name] = "not installed"
    commit = subprocess.run(
        ["git", "rev-parse", "--short", "HEAD"], cwd=REPO, capture_output=True, text=True
    ).stdout.strip()
    dirty = bool(
        subprocess.run(
            ["git", "status", "--porcelain"], cwd=REPO, capture_output=True, text=True
        ).stdout.strip()
    )
    wrk_version = subprocess.run(["wrk", "-v"], capture_output=True, text=True)
    return {
        "cpu": cpu,
        "cores": os.cpu_count(),
        "memory_gib": round(memory_kib / 1024 / 1024, 1),
        "kernel": platform.release(),
        "python": platform.python_version(),
        "packages": packages,
        "wrk": (wrk_version.stdout + wrk_version.stderr).split("\n")[0].strip(),
        "postgresql": _psql("SHOW server_version").strip(),
        "git_commit": commit + ("+dirty" if dirty else ""),
        "load_average_at_start": list(os.getloadavg()),
    }


# --- Processes ------------------------------------------------------------------------------


def ensure_wrk() -> None:
    if shutil.which("wrk"):
        return
    log("wrk is missing: installing it with apt-get")
    subprocess.run(["apt-get", "install", "-y", "wrk"], check=False)
    if not shutil.which("wrk"):
        subprocess.run(["apt-get", "update"], check=False)
        subprocess.run(["apt-get", "install", "-y", "wrk"], check=False)
    if not shutil.which("wrk"):
        sys.exit("wrk is not installed and apt-get could not install it.")


def _psql(sql: str, database: str = "postgres") -> str:
    result = subprocess.run(
        ["psql", "-h", "127.0.0.1", "-U", "postgres", "-d", database, "-tAc", sql],
        capture_output=True,
        text=True,
        check=True,
    )
    return result.stdout


def start(argv: list[str], env: dict[str, str], log_path: Path) -> subprocess.Popen[bytes]:
    handle = log_path.open("wb")
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
    deadline = time.time() + 10
    for process in _children:
        with suppress(subprocess.TimeoutExpired):
            process.wait(timeout=max(0.1, deadline - time.time()))
        if process.poll() is None:
            with suppress(ProcessLookupError):
                os.killpg(process.pid, signal.SIGKILL)
    _children.clear()


def wait_ready(url: str, headers: dict[str, str], timeout: float = 60) -> None:
    deadline = time.time() + timeout
    last: Exception | None = None
    while time.time() < deadline:
        try:
            request = urllib.request.Request(url, headers=headers)  # noqa: S310 - loopback
            with urllib.request.urlopen(request, timeout=2) as response:  # noqa: S310
                if response.status == 200:
                    return
        except Exception as exc:  # noqa: BLE001 - retried until the deadline
            last = exc
        time.sleep(0.3)
    raise RuntimeError(f"{url} did not become ready: {last!r}")


# --- wrk ------------------------------------------------------------------------------------

_UNITS = {"us": 0.001, "ms": 1.0, "s": 1000.0, "m": 60_000.0}


def _ms(text: str) -> float:
    match = re.fullmatch(r"([\d.]+)(us|ms|s|m)", text)
    if not match:
        return float("nan")
    return float(match.group(1)) * _UNITS[match.group(2)]


def wrk(
    url: str,
    *,
    duration: int,
    connections: int,
    headers: dict[str, str] | None = None,
    script: Path | None = None,
    env: dict[str, str] | None = None,
) -> dict[str, Any]:
    argv = ["wrk", "-t1", f"-c{connections}", f"-d{duration}s", "--latency", "--timeout", "5s"]
    for name, value in (headers or {}).items():
        argv += ["-H", f"{name}: {value}"]
    if script is not None:
        argv += ["-s", str(script)]
    result = subprocess.run(
        [*argv, url], capture_output=True, text=True, env={**os.environ, **(env or {})}
    )
    out = result.stdout
    figures: dict[str, Any] = {"requests_per_s": 0.0, "non_2xx": 0, "socket_errors": 0}
    if match := re.search(r"Requests/sec:\s+([\d.]+)", out):
        figures["requests_per_s"] = float(match.group(1))
    for percentile in ("50", "90", "99"):
        if match := re.search(rf"^\s+{percentile}%\s+(\S+)", out, re.MULTILINE):
            figures[f"p{percentile}_ms"] = round(_ms(match.group(1)), 2)
    if match := re.search(r"(\d+) requests in", out):
        figures["requests"] = int(match.group(1))
    if match := re.search(r"Non-2xx or 3xx responses: (\d+)", out):
        figures["non_2xx"] = int(match.group(1))
    if match := re.search(
        r"Socket errors: connect (\d+), read (\d+), write (\d+), timeout (\d+)", out
    ):
        figures["socket_errors"] = sum(int(group) for group in match.groups())
    if result.returncode != 0 or not figures["requests_per_s"]:
        figures["wrk_output"] = out + result.stderr
    return figures


def median_of(runs: list[dict[str, Any]], key: str) -> float:
    values = [run[key] for run in runs if key in run]
    return round(statistics.median(values), 2) if values else float("nan")


# --- Argon2 alone ---------------------------------------------------------------------------


def argon2_cost(time_cost: int, memory_kib: int, parallelism: int, rounds: int = 20) -> float:
    from argon2 import PasswordHasher, Type

    hasher = PasswordHasher(
        time_cost=time_cost, memory_cost=memory_kib, parallelism=parallelism, type=Type.ID
    )
    encoded = hasher.hash("correct horse battery staple")
    hasher.verify(encoded, "correct horse battery staple")
    started = time.perf_counter()
    for _ in range(rounds):
        hasher.verify(encoded, "correct horse battery staple")
    return (time.perf_counter() - started) / rounds * 1000


# --- The run --------------------------------------------------------------------------------


def main() -> int:  # noqa: PLR0915 - one linear script
    parser = argparse.ArgumentParser(description=__doc__.split("\n\n")[0])
    parser.add_argument("--duration", type=int, default=10)
    parser.add_argument("--rounds", type=int, default=3)
    parser.add_argument("--warmup", type=int, default=3)
    parser.add_argument("--connections", type=int, default=64)
    parser.add_argument("--login-duration", type=int, default=10)
    parser.add_argument("--login-connections", type=int, default=16)
    parser.add_argument("--refresh-tokens", type=int, default=0, help="0: sized from duration")
    parser.add_argument("--quick", action="store_true", help="3 s, 1 round")
    args = parser.parse_args()
    if args.quick:
        args.duration, args.rounds, args.warmup, args.login_duration = 3, 1, 1, 3

    ensure_wrk()
    stamp = datetime.now(tz=UTC).strftime("%Y%m%dT%H%M%SZ")
    work = Path(tempfile.mkdtemp(prefix="tessera-bench-auth-"))
    RESULTS.mkdir(parents=True, exist_ok=True)
    info = machine()
    log(f"machine: {info['cpu']}, {info['cores']} cores; logs in {work}")

    secret = "".join(secrets.choice(string.ascii_letters + string.digits) for _ in range(60))
    base_env = {
        **{key: value for key, value in os.environ.items() if not key.startswith("DJANGO_")},
        "PYTHONPATH": str(REPO),
        "DJANGO_SECRET_KEY": secret,
        "DJANGO_ALLOWED_HOSTS": "127.0.0.1,localhost",
        "SECURE_SSL_REDIRECT": "false",
        "ALLOW_CONSOLE_DELIVERY": "true",  # nothing is emailed or texted in a bench
        "DATABASE_URL": DB_URL,
        "REDIS_URL": REDIS_URL,
        "RATE_LIMIT_DEFAULT": "100000000/minute",
        "AUTH_LOGIN_RATE": "100000000/minute",
        "LOG_LEVEL": "INFO",
        "TESSERA_VAR_DIR": str(work / "var"),
    }
    # Production's own refusals (a sandbox payment gateway, console delivery) are satisfied
    # the one way the local runs do (config/localprod.py).
    tessera_env = {
        **base_env,
        **production_env(DJANGO_SECRET_KEY=secret, DJANGO_ALLOWED_HOSTS="127.0.0.1,localhost"),
    }
    drf_env = {**base_env, "DJANGO_SETTINGS_MODULE": "bench.auth.drf_me.settings"}

    def on_signal(signum: int, _frame: Any) -> None:
        stop_all()
        sys.exit(128 + signum)

    signal.signal(signal.SIGTERM, on_signal)
    signal.signal(signal.SIGINT, on_signal)
    try:
        log(f"creating database {DB_NAME} and clearing Redis db {REDIS_DB}")
        _psql(f"DROP DATABASE IF EXISTS {DB_NAME} WITH (FORCE)")
        _psql(f"CREATE DATABASE {DB_NAME}")
        subprocess.run(
            ["redis-cli", "-n", REDIS_DB, "FLUSHDB"], check=True, capture_output=True, text=True
        )
        subprocess.run(
            [PYTHON, "manage.py", "migrate", "--noinput"],
            cwd=REPO,
            env=tessera_env,
            check=True,
            stdout=(work / "migrate.log").open("wb"),
            stderr=subprocess.STDOUT,
        )
        token_count = args.refresh_tokens or max(20_000, 2_000 * args.duration * args.rounds)
        log(f"seeding the user and {token_count} single-use refresh tokens")
        seed_out, tokens_file = work / "seed.json", work / "refresh-tokens.txt"
        subprocess.run(
            [PYTHON, str(HERE / "seed.py"), str(seed_out), str(tokens_file), str(token_count)],
            cwd=REPO,
            env=tessera_env,
            check=True,
        )
        seed = json.loads(seed_out.read_text())
        drf_token = subprocess.run(
            [PYTHON, str(HERE / "drf_token.py"), seed["email"]],
            cwd=REPO,
            env=drf_env,
            check=True,
            capture_output=True,
            text=True,
        ).stdout.strip()

        tessera_port, drf_port = free_port(), free_port()
        start(
            granian_command("config.wsgi:application", tessera_port),
            tessera_env,
            work / "tessera.log",
        )
        start(
            [
                str(VENV_BIN / "gunicorn"),
                "--bind",
                f"127.0.0.1:{drf_port}",
                "--workers",
                "2",
                "--worker-class",
                "sync",
                "--no-control-socket",
                "bench.auth.drf_me.wsgi:application",
            ],
            drf_env,
            work / "drf.log",
        )
        tessera = f"http://127.0.0.1:{tessera_port}"
        drf = f"http://127.0.0.1:{drf_port}"
        tessera_auth = {"Authorization": f"Bearer {seed['access_token']}"}
        drf_auth = {"Authorization": f"Bearer {drf_token}"}
        wait_ready(f"{tessera}/api/auth/me", tessera_auth)
        wait_ready(f"{drf}/api/auth/me", drf_auth)
        bodies = {}
        for name, url, headers in (
            ("tessera", f"{tessera}/api/auth/me", tessera_auth),
            ("drf", f"{drf}/api/auth/me", drf_auth),
        ):
            request = urllib.request.Request(url, headers=headers)  # noqa: S310 - loopback
            with urllib.request.urlopen(request, timeout=5) as response:  # noqa: S310
                bodies[name] = json.loads(response.read())["data"]
        same_keys = sorted(bodies["tessera"]) == sorted(bodies["drf"])
        log(f"both /me replies carry the same fields: {same_keys}")

        targets: dict[str, dict[str, Any]] = {
            "tessera_me": {"url": f"{tessera}/api/auth/me", "headers": tessera_auth},
            "drf_me": {"url": f"{drf}/api/auth/me", "headers": drf_auth},
            "tessera_refresh": {
                "url": tessera,
                "script": HERE / "refresh.lua",
                "env": {"TOKENS_FILE": str(tokens_file)},
            },
        }
        log(f"warming up ({args.warmup} s each)")
        for name in ("tessera_me", "drf_me"):
            target = targets[name]
            wrk(
                target["url"],
                duration=args.warmup,
                connections=args.connections,
                headers=target.get("headers"),
            )
        # Each refresh run gets its own slice of never-used tokens (wrk restarts its Lua
        # state every run; a token sent twice would be reuse, answered with a 401).
        all_tokens = tokens_file.read_text().split()
        per_run = len(all_tokens) // args.rounds
        runs: dict[str, list[dict[str, Any]]] = {name: [] for name in targets}
        for round_number in range(1, args.rounds + 1):
            slice_file = work / f"refresh-tokens-{round_number}.txt"
            first = (round_number - 1) * per_run
            slice_file.write_text("\n".join(all_tokens[first : first + per_run]) + "\n")
            targets["tessera_refresh"]["env"] = {"TOKENS_FILE": str(slice_file)}
            for name, target in targets.items():
                # The refresh target's writes leave PostgreSQL busy (autovacuum, checkpoint)
                # on the same two cores: let that finish rather than time it into /me.
                quiet = wait_for_quiet(30)
                figures = wrk(
                    target["url"],
                    duration=args.duration,
                    connections=args.connections,
                    headers=target.get("headers"),
                    script=target.get("script"),
                    env=target.get("env"),
                )
                figures.update(quiet)
                runs[name].append(figures)
                log(
                    f"round {round_number} {name}: {figures['requests_per_s']:.0f} req/s, "
                    f"p99 {figures.get('p99_ms')} ms, non-2xx {figures['non_2xx']}"
                )

        log(f"login over HTTP ({args.login_connections} connections, {args.login_duration} s)")
        login = wrk(
            f"{tessera}/api/auth/login",
            duration=args.login_duration,
            connections=args.login_connections,
            script=HERE / "login.lua",
            env={"BENCH_EMAIL": seed["email"], "BENCH_PASSWORD": seed["password"]},
        )
        log(f"login: {login['requests_per_s']:.1f}/s, p99 {login.get('p99_ms')} ms")
    finally:
        stop_all()

    chosen = seed["argon2"]
    hashing = {
        "chosen": {
            **chosen,
            "verify_ms": round(
                argon2_cost(chosen["time_cost"], chosen["memory_cost_kib"], chosen["parallelism"]),
                1,
            ),
        },
        "django_default": {
            "time_cost": 2,
            "memory_cost_kib": 102_400,
            "parallelism": 8,
            "verify_ms": round(argon2_cost(2, 102_400, 8, rounds=8), 1),
        },
    }
    summary = {
        name: {
            "requests_per_s": median_of(target_runs, "requests_per_s"),
            "p50_ms": median_of(target_runs, "p50_ms"),
            "p99_ms": median_of(target_runs, "p99_ms"),
            "non_2xx": sum(run["non_2xx"] for run in target_runs),
            "socket_errors": sum(run["socket_errors"] for run in target_runs),
        }
        for name, target_runs in runs.items()
    }
    ratios = {
        "me_tessera_over_drf": round(
            summary["tessera_me"]["requests_per_s"] / summary["drf_me"]["requests_per_s"], 2
        ),
        "refresh_over_me": round(
            summary["tessera_refresh"]["requests_per_s"] / summary["tessera_me"]["requests_per_s"],
            3,
        ),
    }
    report = {
        "benchmark": "auth",
        "started": stamp,
        "machine": info,
        "settings": {
            "duration_s": args.duration,
            "rounds": args.rounds,
            "connections": args.connections,
            "tessera": "config.settings.prod on granian WSGI, 2 workers, --blocking-threads 2",
            "drf": "DRF + simplejwt, default middleware, gunicorn sync, 2 workers",
            "database": DB_URL,
            "redis": REDIS_URL,
            "refresh_tokens_seeded": token_count,
        },
        "same_me_fields": same_keys,
        "runs": runs,
        "summary": summary,
        "ratios": ratios,
        "login": {**login, "connections": args.login_connections},
        "argon2": hashing,
    }
    json_path = RESULTS / f"auth-{stamp}.json"
    json_path.write_text(json.dumps(report, indent=2) + "\n")
    (RESULTS / f"auth-{stamp}.md").write_text(markdown(report))
    log(f"results: {json_path} and {json_path.with_suffix('.md')}")
    print(markdown(report))
    return 0


def markdown(report: dict[str, Any]) -> str:
    m = report["machine"]
    s = report["summary"]
    r = report["ratios"]
    a = report["argon2"]
    login = report["login"]
    load = ", ".join(f"{x:.2f}" for x in m["load_average_at_start"])
    settings = report["settings"]
    lines = [
        f"# Authentication benchmark, {report['started']}",
        "",
        (
            f"Machine: {m['cpu']}, {m['cores']} cores, {m['memory_gib']} GiB, Linux "
            f"{m['kernel']}, Python {m['python']}, PostgreSQL {m['postgresql']}, {m['wrk']}, "
            f"commit {m['git_commit']}. Load average at start: {load}."
        ),
        "",
        (
            f"wrk -t1 -c{settings['connections']} from loopback, {settings['duration_s']} s "
            f"per target, {settings['rounds']} interleaved rounds, medians. Each run starts "
            "once the machine is quiet (under 0.5 busy cores, at most 30 s of waiting)."
        ),
        "",
        "| target | req/s | p50 ms | p99 ms | non-2xx | socket errors |",
        "|---|---|---|---|---|---|",
    ]
    labels = {
        "tessera_me": "Tessera GET /api/auth/me (granian WSGI, 2 workers, 2 blocking threads)",
        "drf_me": "DRF + simplejwt GET /api/auth/me (gunicorn sync, 2 workers)",
        "tessera_refresh": "Tessera POST /api/auth/refresh (rotation, one token per request)",
    }
    for name, label in labels.items():
        row = s[name]
        lines.append(
            f"| {label} | {row['requests_per_s']:.0f} | {row['p50_ms']} | {row['p99_ms']} | "
            f"{row['non_2xx']} | {row['socket_errors']} |"
        )
    chosen = a["chosen"]
    lines += [
        "",
        (
            f"- /me, Tessera / DRF: **{r['me_tessera_over_drf']}x** (target >= 1.5x); "
            f"Tessera p99 {s['tessera_me']['p99_ms']} ms (target < 25 ms). Same fields in "
            f"both replies: {report['same_me_fields']}."
        ),
        f"- /refresh / /me: **{r['refresh_over_me']}**.",
        (
            f"- Login over HTTP (Argon2id t={chosen['time_cost']}, "
            f"m={chosen['memory_cost_kib'] // 1024} MiB, p={chosen['parallelism']}; "
            f"{login['connections']} connections): **{login['requests_per_s']:.1f} logins/s**, "
            f"p99 {login.get('p99_ms')} ms, non-2xx {login['non_2xx']}."
        ),
        (
            f"- One Argon2 verify in this process: {chosen['verify_ms']} ms at the chosen "
            f"cost; {a['django_default']['verify_ms']} ms at Django's default "
            "(t=2, m=100 MiB, p=8)."
        ),
        "",
    ]
    return "\n".join(lines)


if __name__ == "__main__":
    sys.exit(main())
