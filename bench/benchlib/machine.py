"""A description of the machine and software a run measured, stored with its results."""

from __future__ import annotations

import os
import platform
import subprocess
from importlib.metadata import PackageNotFoundError, version
from pathlib import Path
from typing import Any

import psutil

PACKAGES = (
    "django",
    "django-ninja",
    "granian",
    "gunicorn",
    "uvicorn",
    "djangorestframework",
    "pydantic",
    "orjson",
    "structlog",
    "limits",
    "redis",
    "hiredis",
    "psycopg",
    "celery",
    "uvloop",
    "httptools",
    "psutil",
)


def _cpu_model() -> str:
    try:
        for line in Path("/proc/cpuinfo").read_text().splitlines():
            if line.startswith("model name"):
                return line.split(":", 1)[1].strip()
    except OSError:
        pass
    return platform.processor() or "unknown"


def _package_versions() -> dict[str, str]:
    versions = {}
    for name in PACKAGES:
        try:
            versions[name] = version(name)
        except PackageNotFoundError:
            versions[name] = "not installed"
    return versions


def _git(repo: Path, *args: str) -> str:
    try:
        result = subprocess.run(
            ["git", *args], cwd=repo, capture_output=True, text=True, timeout=10
        )
    except (OSError, subprocess.TimeoutExpired):
        return ""
    return result.stdout.strip() if result.returncode == 0 else ""


def _services() -> dict[str, str]:
    found: dict[str, str] = {}
    try:
        import psycopg

        with psycopg.connect(
            "postgresql://postgres@127.0.0.1:5432/postgres", connect_timeout=3
        ) as conn:
            row = conn.execute("SHOW server_version").fetchone()
            found["postgresql"] = str(row[0]) if row else "unknown"
    except Exception as exc:  # noqa: BLE001 - a description, not a check
        found["postgresql"] = f"unreachable ({type(exc).__name__})"
    try:
        import redis

        info = redis.Redis(host="127.0.0.1", port=6379, socket_timeout=3).info("server")
        found["redis"] = str(info.get("redis_version", "unknown"))
    except Exception as exc:  # noqa: BLE001
        found["redis"] = f"unreachable ({type(exc).__name__})"
    return found


def describe(repo: Path, wrk: str | None = None, wrk_ver: str | None = None) -> dict[str, Any]:
    memory = psutil.virtual_memory()
    status = _git(repo, "status", "--porcelain")
    return {
        "cpu_model": _cpu_model(),
        "cpu_count_logical": os.cpu_count(),
        "cpu_count_physical": psutil.cpu_count(logical=False),
        "memory_total_gib": round(memory.total / 2**30, 1),
        "memory_available_gib_at_start": round(memory.available / 2**30, 1),
        "load_average_at_start": [round(x, 2) for x in os.getloadavg()],
        "os": platform.platform(),
        "python": platform.python_version(),
        "python_implementation": platform.python_implementation(),
        "packages": _package_versions(),
        "services": _services(),
        "wrk": {"path": wrk, "version": wrk_ver},
        "git_commit": _git(repo, "rev-parse", "--short", "HEAD"),
        "git_dirty": bool(status),
    }


def one_line(machine: dict[str, Any]) -> str:
    packages = machine["packages"]
    return (
        f"{machine['cpu_model']}, {machine['cpu_count_logical']} cores, "
        f"{machine['memory_total_gib']} GiB; {machine['os']}; Python {machine['python']}; "
        f"Django {packages['django']}, django-ninja {packages['django-ninja']}, "
        f"granian {packages['granian']}, gunicorn {packages['gunicorn']}, "
        f"uvicorn {packages['uvicorn']}, DRF {packages['djangorestframework']}; "
        f"PostgreSQL {machine['services'].get('postgresql')}, "
        f"Redis {machine['services'].get('redis')}; wrk {machine['wrk']['version']}"
    )
