"""Real parallel database connections for race tests (PostgreSQL lane)."""

from __future__ import annotations

import threading
from collections.abc import Callable
from typing import Any

from django.db import close_old_connections, connection


def race(work: Callable[[], Any], copies: int = 2, *, join_timeout: float = 60) -> list[Any]:
    """Run `work` in `copies` threads (each its own connection) released together; return
    each one's result or exception."""
    barrier = threading.Barrier(copies)
    results: list[Any] = [None] * copies

    def run(index: int) -> None:
        try:
            barrier.wait(timeout=10)
            results[index] = work()
        except Exception as exc:  # noqa: BLE001 - the race's outcome is what we inspect
            results[index] = exc
        finally:
            connection.close()

    threads = [threading.Thread(target=run, args=(index,)) for index in range(copies)]
    for thread in threads:
        thread.start()
    for thread in threads:
        thread.join(timeout=join_timeout)
    close_old_connections()
    return results
