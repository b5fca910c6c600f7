"""Background work: the base task every Tessera task uses and the enqueue-on-commit helper."""

from __future__ import annotations

from typing import Any

import structlog
from celery import Task, current_app
from django.core.cache import cache
from django.db import InterfaceError, transaction
from kombu.exceptions import OperationalError as KombuOperationalError

from tessera.core.outages import CACHE_CONNECTION_ERRORS

logger = structlog.get_logger("tessera.jobs")

# Errors worth retrying: the network, the broker, the database or Redis (the cache, the
# providers' rate-limit counters) being briefly away. Redis' errors are not the built-in
# ConnectionError: without them a task meeting a Redis restart failed for good.
TRANSIENT_ERRORS: tuple[type[BaseException], ...] = (
    ConnectionError,
    TimeoutError,
    InterfaceError,
    KombuOperationalError,
    *CACHE_CONNECTION_ERRORS,
)


class TesseraTask(Task):
    """Acknowledged late (a crashed worker's task is redelivered), so every task must be
    idempotent; transient failures retry with exponential backoff and jitter."""

    acks_late = True
    reject_on_worker_lost = True
    autoretry_for = TRANSIENT_ERRORS
    retry_backoff = 2
    retry_backoff_max = 600
    retry_jitter = True
    max_retries = 8


def enqueue_on_commit(task: Any, /, *, task_id: str | None = None, **kwargs: Any) -> None:
    """Send `task` with keyword arguments once the current transaction commits.

    Arguments must be ids and plain values, never model instances. A rolled-back write
    sends nothing.
    """

    def send() -> None:
        task.apply_async(kwargs=kwargs, task_id=task_id)

    transaction.on_commit(send)


def send_task_by_name(name: str, /, **kwargs: Any) -> None:
    """Enqueue by registered name after commit, for callers that may not import the task."""
    transaction.on_commit(lambda: current_app.send_task(name, kwargs=kwargs))


def _drain_key(name: str, slot: int) -> str:
    return f"tessera:drain:{name}:{slot}"


def drain_schedule(
    task: Any,
    /,
    *,
    name: str,
    slots: int = 1,
    marker_seconds: int = 10,
    kwargs: dict[str, Any] | None = None,
    countdown: float | None = None,
) -> bool:
    """Make sure a drain task runs soon, without sending one task per item: `task` is sent
    with `slot=<n>` only when that slot's marker (a cache `add`, SET NX on Redis) was free;
    with every slot held, the drains already queued or running will find the new item.

    A drain must call `drain_release` when it finds nothing left, then look once more (what
    was stored before the release is then found; what is stored after it schedules a new
    drain). The marker expires after `marker_seconds`, so a drain task that was lost holds
    its slot no longer than that; the owning module's beat sweep is the last resort. With
    the cache unreachable the task is sent anyway (several drains at once are safe).
    `kwargs` go to the task beside `slot`; `countdown` (under `marker_seconds`) lets items
    gather into bigger batches where a second's delay costs nothing. Returns whether a task
    was sent."""
    for slot in range(max(1, slots)):
        try:
            if not cache.add(_drain_key(name, slot), 1, timeout=marker_seconds):
                continue
        except CACHE_CONNECTION_ERRORS:
            logger.warning("drain_marker_unavailable", drain=name)
        task.apply_async(kwargs={**(kwargs or {}), "slot": slot}, countdown=countdown)
        return True
    return False


def drain_on_commit(task: Any, /, *, name: str, **options: Any) -> None:
    """`drain_schedule` (same options) once the current transaction commits. A failure to
    reach the broker is logged, not raised: the rows are stored, and the module's sweep sends
    them."""

    def send() -> None:
        try:
            drain_schedule(task, name=name, **options)
        except Exception:
            logger.exception("drain_schedule_failed", drain=name)

    transaction.on_commit(send)


def drain_release(*, name: str, slot: int) -> None:
    """Free a drain's slot (see `drain_schedule`)."""
    try:
        cache.delete(_drain_key(name, slot))
    except CACHE_CONNECTION_ERRORS:
        logger.warning("drain_marker_unavailable", drain=name)


__all__ = [
    "TRANSIENT_ERRORS",
    "TesseraTask",
    "drain_on_commit",
    "drain_release",
    "drain_schedule",
    "enqueue_on_commit",
    "send_task_by_name",
]
