"""Celery signal handlers that keep TaskRecord rows in step with the worker."""

from __future__ import annotations

from typing import Any

import structlog
from celery import signals

from tessera.tasks import services

logger = structlog.get_logger("tessera.tasks")


@signals.task_prerun.connect
def _on_prerun(task_id: str, task: Any, **_: Any) -> None:
    structlog.contextvars.bind_contextvars(task_id=task_id, task_name=task.name)
    services.task_mark_started(task_id=task_id)


@signals.task_retry.connect
def _on_retry(request: Any, reason: Any, **_: Any) -> None:
    services.task_mark_retry(task_id=request.id, reason=str(reason))


@signals.task_success.connect
def _on_success(sender: Any, result: Any, **_: Any) -> None:
    services.task_mark_succeeded(task_id=sender.request.id, result=result)


@signals.task_failure.connect
def _on_failure(
    sender: Any, task_id: str, exception: BaseException, kwargs: Any = None, **_: Any
) -> None:
    logger.error("task_failed", task_id=task_id, task_name=sender.name, error=repr(exception))
    services.task_mark_failed(
        task_id=task_id,
        name=sender.name,
        error=f"{type(exception).__name__}: {exception}",
        arguments=kwargs,
    )


@signals.task_postrun.connect
def _on_postrun(**_: Any) -> None:
    structlog.contextvars.unbind_contextvars("task_id", "task_name")
