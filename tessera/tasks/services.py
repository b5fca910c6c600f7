"""Starting tracked tasks and recording their progress."""

from __future__ import annotations

import uuid
from typing import Any

import orjson
from django.db import transaction
from django.db.models import F
from django.utils import timezone

from tessera.core.jobs import enqueue_on_commit
from tessera.tasks.models import TaskRecord


def task_start(*, task: Any, owner_id: Any | None, **kwargs: Any) -> TaskRecord:
    """Record a task for `owner` and enqueue it after the current transaction commits."""
    task_id = uuid.uuid4()
    with transaction.atomic():
        record = TaskRecord.objects.create(
            id=task_id, owner_id=owner_id, name=task.name, arguments=kwargs
        )
        enqueue_on_commit(task, task_id=str(task_id), **kwargs)
    return record


def task_report_progress(*, task_id: str, current: int, total: int, message: str = "") -> None:
    """Called from inside a running task; a no-op for tasks that were not started tracked."""
    TaskRecord.objects.filter(pk=task_id).update(
        progress_current=current,
        progress_total=total,
        progress_message=message[:200],
        updated_at=timezone.now(),
    )


def task_mark_started(*, task_id: str) -> None:
    TaskRecord.objects.filter(pk=task_id).exclude(state=TaskRecord.State.SUCCESS).update(
        state=TaskRecord.State.STARTED, started_at=timezone.now(), updated_at=timezone.now()
    )


def task_mark_retry(*, task_id: str, reason: str) -> None:
    TaskRecord.objects.filter(pk=task_id).update(
        state=TaskRecord.State.RETRY,
        retries=F("retries") + 1,
        error=reason[:5000],
        updated_at=timezone.now(),
    )


def task_mark_succeeded(*, task_id: str, result: Any) -> None:
    try:
        orjson.dumps(result)
        stored = result
    except TypeError:
        stored = repr(result)
    TaskRecord.objects.filter(pk=task_id).update(
        state=TaskRecord.State.SUCCESS,
        result=stored,
        error="",
        finished_at=timezone.now(),
        updated_at=timezone.now(),
    )


def task_mark_failed(*, task_id: str, name: str, error: str, arguments: Any = None) -> None:
    """A task that failed for good. Untracked tasks get a row too: the dead-letter list."""
    now = timezone.now()
    TaskRecord.objects.update_or_create(
        pk=task_id,
        defaults={
            "state": TaskRecord.State.FAILURE,
            "error": error[:5000],
            "finished_at": now,
            "name": name,
        },
        create_defaults={
            "state": TaskRecord.State.FAILURE,
            "error": error[:5000],
            "finished_at": now,
            "name": name,
            "arguments": arguments if isinstance(arguments, dict) else {},
        },
    )
