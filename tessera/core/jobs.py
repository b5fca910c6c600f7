"""Background work: the base task every Tessera task uses and the enqueue-on-commit helper."""

from __future__ import annotations

from typing import Any

from celery import Task, current_app
from django.db import InterfaceError, transaction
from kombu.exceptions import OperationalError as KombuOperationalError

from tessera.core.outages import CACHE_CONNECTION_ERRORS

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


__all__ = ["TRANSIENT_ERRORS", "TesseraTask", "enqueue_on_commit", "send_task_by_name"]
