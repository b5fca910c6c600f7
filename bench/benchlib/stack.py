"""What runs: the environment of the production-like stack, the apps, the servers."""

from __future__ import annotations

import os
import secrets
import subprocess
import sys
from collections.abc import Callable
from dataclasses import dataclass
from pathlib import Path

import psycopg
from psycopg import sql

from benchlib.procs import BenchError, Managed, Registry, free_port, tail, wait_http

REPO = Path(__file__).resolve().parents[2]
BENCH = REPO / "bench"
if str(REPO) not in sys.path:
    sys.path.insert(0, str(REPO))

from config.localprod import production_env  # noqa: E402

VENV_BIN = Path(sys.executable).parent
if not (VENV_BIN / "granian").exists() and (REPO / ".venv" / "bin" / "granian").exists():
    VENV_BIN = REPO / ".venv" / "bin"

BENCH_DB = "tessera_bench"
PG_ADMIN_URL = "postgresql://postgres@127.0.0.1:5432/postgres"
DATABASE_URL = f"postgresql://postgres@127.0.0.1:5432/{BENCH_DB}"
REDIS_URL = "redis://127.0.0.1:6379/14"
CELERY_BROKER_URL = "redis://127.0.0.1:6379/13"
# Evaluated on every request (a Redis round trip each), never refuses.
RATE_LIMIT_DEFAULT = "100000000/minute"
WORKERS = 2


def _base_env() -> dict[str, str]:
    keep = ("PATH", "HOME", "LANG", "LC_ALL", "TMPDIR", "TZ", "USER")
    env = {key: os.environ[key] for key in keep if key in os.environ}
    env["PATH"] = f"{VENV_BIN}:{env.get('PATH', '/usr/bin:/bin')}"
    env["PYTHONPATH"] = str(REPO)
    return env


def tessera_env(static_root: Path) -> dict[str, str]:
    """Production settings, services on loopback, logging on at INFO."""
    env = _base_env()
    env.update(
        {
            **production_env(),
            "DATABASE_URL": DATABASE_URL,
            "REDIS_URL": REDIS_URL,
            "RATE_LIMIT_DEFAULT": RATE_LIMIT_DEFAULT,
            "LOG_LEVEL": "INFO",
            "STATIC_ROOT": str(static_root),
        }
    )
    return env


def baseline_env(settings_module: str) -> dict[str, str]:
    env = _base_env()
    env["DJANGO_SETTINGS_MODULE"] = settings_module
    env["DJANGO_SECRET_KEY"] = secrets.token_urlsafe(45)[:60]
    return env


def ensure_database() -> None:
    with psycopg.connect(PG_ADMIN_URL, autocommit=True, connect_timeout=5) as conn:
        exists = conn.execute(
            "SELECT 1 FROM pg_database WHERE datname = %s", (BENCH_DB,)
        ).fetchone()
        if not exists:
            print(f"  creating database {BENCH_DB}")
            conn.execute(sql.SQL("CREATE DATABASE {}").format(sql.Identifier(BENCH_DB)))


def manage(args: list[str], env: dict[str, str], log_path: Path) -> None:
    log_path.parent.mkdir(parents=True, exist_ok=True)
    with log_path.open("ab") as log:
        log.write(f"$ manage.py {' '.join(args)}\n".encode())
        log.flush()
        result = subprocess.run(
            [sys.executable, str(REPO / "manage.py"), *args],
            cwd=REPO,
            env=env,
            stdout=log,
            stderr=subprocess.STDOUT,
            timeout=600,
        )
    if result.returncode != 0:
        raise BenchError(f"manage.py {' '.join(args)} failed; {log_path}:\n{tail(log_path)}")


def prepare_tessera(env: dict[str, str], log_dir: Path) -> None:
    """Create and migrate the bench database; collect static files as a deployment would."""
    ensure_database()
    manage(["migrate", "--noinput"], env, log_dir / "migrate.log")
    manage(["collectstatic", "--noinput", "--clear"], env, log_dir / "collectstatic.log")


# --- apps -----------------------------------------------------------------------------------


@dataclass(frozen=True)
class App:
    name: str
    label: str
    wsgi: str
    asgi: str
    path: str
    settings: str | None  # a baseline's settings module; None for Tessera and the bare app
    ready_path: str = "/api/ping"  # polled until 2xx before the first measured request
    extra_env: tuple[tuple[str, str], ...] = ()  # Tessera variants: settings switched off


APPS: dict[str, App] = {
    app.name: app
    for app in (
        App(
            "ceiling",
            "bare WSGI app (ceiling)",
            "bench.baselines.bare_wsgi:application",
            "bench.baselines.bare_asgi:application",
            "/api/ping",
            None,
        ),
        App(
            "django_plain",
            "plain Django view, startproject middleware",
            "bench.baselines.django_plain.wsgi:application",
            "bench.baselines.django_plain.asgi:application",
            "/api/ping",
            "bench.baselines.django_plain.settings",
        ),
        App(
            "drf",
            "Django REST Framework APIView",
            "bench.baselines.drf_app.wsgi:application",
            "bench.baselines.drf_app.asgi:application",
            "/api/ping",
            "bench.baselines.drf_app.settings",
        ),
        App(
            "tessera",
            "Tessera GET /api/ping, whole stack",
            "config.wsgi:application",
            "config.asgi:application",
            "/api/ping",
            None,
            ready_path="/health/",  # so that the preflight is the first /api/ping it serves
        ),
    )
}

# Tessera with one part of the stack switched off through its own settings: where the time
# goes, measured over HTTP (the attribution phase). Not production configurations.
VARIANTS: dict[str, App] = {
    app.name: app
    for app in (
        App(
            "tessera_no_ratelimit",
            "Tessera, RATE_LIMIT_ENABLED=false",
            "config.wsgi:application",
            "config.asgi:application",
            "/api/ping",
            None,
            ready_path="/health/",
            extra_env=(("RATE_LIMIT_ENABLED", "false"),),
        ),
        App(
            "tessera_no_accesslog",
            "Tessera, ACCESS_LOG_LEVEL=WARNING (no access log line)",
            "config.wsgi:application",
            "config.asgi:application",
            "/api/ping",
            None,
            ready_path="/health/",
            extra_env=(("ACCESS_LOG_LEVEL", "WARNING"),),
        ),
        App(
            "tessera_neither",
            "Tessera, rate limit and access log both off",
            "config.wsgi:application",
            "config.asgi:application",
            "/api/ping",
            None,
            ready_path="/health/",
            extra_env=(("RATE_LIMIT_ENABLED", "false"), ("ACCESS_LOG_LEVEL", "WARNING")),
        ),
    )
}
ALL_APPS: dict[str, App] = {**APPS, **VARIANTS}


# --- servers --------------------------------------------------------------------------------


@dataclass(frozen=True)
class Server:
    name: str
    label: str
    interface: str  # "wsgi" or "asgi"
    build: Callable[[str, int, int], list[str]]  # (target, port, workers) -> argv


def _gunicorn(worker_class: str, threads: int) -> Callable[[str, int, int], list[str]]:
    def build(target: str, port: int, workers: int) -> list[str]:
        argv = [
            str(VENV_BIN / "gunicorn"),
            "--bind",
            f"127.0.0.1:{port}",
            "--workers",
            str(workers),
            "--worker-class",
            worker_class,
            "--no-control-socket",  # gunicorn 24+: one shared default socket path otherwise
        ]
        if threads > 1:
            argv += ["--threads", str(threads)]
        return [*argv, target]

    return build


def granian_command(
    target: str,
    port: int,
    *,
    workers: int = 2,
    blocking_threads: int | None = 2,
    interface: str = "wsgi",
) -> list[str]:
    """granian on loopback, as the production command runs it (docs/decisions/0002)."""
    argv = [
        str(VENV_BIN / "granian"),
        "--interface",
        interface,
        "--host",
        "127.0.0.1",
        "--port",
        str(port),
        "--workers",
        str(workers),
    ]
    if blocking_threads is not None:
        argv += ["--blocking-threads", str(blocking_threads)]
    return [*argv, target]


def _granian(interface: str, blocking_threads: int | None) -> Callable[[str, int, int], list[str]]:
    def build(target: str, port: int, workers: int) -> list[str]:
        return granian_command(
            target, port, workers=workers, blocking_threads=blocking_threads, interface=interface
        )

    return build


def _uvicorn(target: str, port: int, workers: int) -> list[str]:
    return [
        str(VENV_BIN / "uvicorn"),
        "--host",
        "127.0.0.1",
        "--port",
        str(port),
        "--workers",
        str(workers),
        "--loop",
        "uvloop",
        "--http",
        "httptools",
        "--lifespan",
        "off",
        "--no-access-log",  # Tessera writes its own access log; the baselines write none
        target,
    ]


SERVERS: dict[str, Server] = {
    server.name: server
    for server in (
        Server("gunicorn-sync", "gunicorn sync, 2 workers", "wsgi", _gunicorn("sync", 1)),
        Server(
            "gunicorn-gthread",
            "gunicorn gthread, 2 workers x 4 threads",
            "wsgi",
            _gunicorn("gthread", 4),
        ),
        Server(
            "granian-wsgi-bt1",
            "granian WSGI, 2 workers, --blocking-threads 1",
            "wsgi",
            _granian("wsgi", 1),
        ),
        Server(
            "granian-wsgi-bt2",
            "granian WSGI, 2 workers, --blocking-threads 2",
            "wsgi",
            _granian("wsgi", 2),
        ),
        Server(
            "granian-wsgi-bt4",
            "granian WSGI, 2 workers, --blocking-threads 4",
            "wsgi",
            _granian("wsgi", 4),
        ),
        Server(
            "granian-asgi",
            "granian ASGI (config.asgi), 2 workers",
            "asgi",
            _granian("asginl", None),  # Django does not speak the lifespan protocol
        ),
        Server(
            "uvicorn",
            "uvicorn (config.asgi), 2 workers, uvloop + httptools",
            "asgi",
            _uvicorn,
        ),
    )
}


@dataclass
class Running:
    app: App
    server: Server
    port: int
    managed: Managed

    @property
    def key(self) -> str:
        return f"{self.server.name}/{self.app.name}"

    @property
    def url(self) -> str:
        return f"http://127.0.0.1:{self.port}{self.app.path}"


def start_target(
    registry: Registry,
    app: App,
    server: Server,
    *,
    tessera: dict[str, str],
    log_dir: Path,
    workers: int = WORKERS,
) -> Running:
    port = free_port()
    target = app.wsgi if server.interface == "wsgi" else app.asgi
    if app.name.startswith("tessera"):
        env = dict(tessera)
        env.update(dict(app.extra_env))
    elif app.settings:
        env = baseline_env(app.settings)
    else:
        env = _base_env()
    managed = registry.start(
        f"{server.name}/{app.name}",
        server.build(target, port, workers),
        env=env,
        cwd=REPO,
        log_path=log_dir / f"{server.name}--{app.name}.log",
    )
    return Running(app=app, server=server, port=port, managed=managed)


def wait_ready(running: Running, timeout: float = 90.0) -> None:
    wait_http(running.managed, running.port, running.app.ready_path, timeout=timeout)
