"""Liveness and readiness: `/health/` touches nothing, `/health/ready` checks each dependency."""

from __future__ import annotations

import time
from collections.abc import Callable
from typing import Any

from celery import current_app
from django.conf import settings
from django.core.cache import cache
from django.db import connection


def _timed(check: Callable[[], Any]) -> dict[str, Any]:
    started = time.perf_counter()
    try:
        check()
    except Exception as exc:  # noqa: BLE001 - any failure makes the dependency unready
        return {
            "ok": False,
            "latencyMs": round((time.perf_counter() - started) * 1000, 2),
            "error": f"{type(exc).__name__}: {exc}"[:300],
        }
    return {"ok": True, "latencyMs": round((time.perf_counter() - started) * 1000, 2)}


def check_database() -> None:
    with connection.cursor() as cursor:
        cursor.execute("SELECT 1")
        cursor.fetchone()


def check_cache() -> None:
    key = "health:ready"
    cache.set(key, "1", timeout=10)
    if cache.get(key) != "1":
        raise RuntimeError("cache did not return the value just written")


def check_broker() -> None:
    with current_app.connection_for_write() as conn:
        conn.ensure_connection(max_retries=0, timeout=2)


def readiness() -> tuple[bool, dict[str, Any]]:
    checks = {
        "database": _timed(check_database),
        "cache": _timed(check_cache),
    }
    if not settings.CELERY_TASK_ALWAYS_EAGER:
        checks["broker"] = _timed(check_broker)
    return all(check["ok"] for check in checks.values()), checks
