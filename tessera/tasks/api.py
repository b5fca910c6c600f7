from __future__ import annotations

from uuid import UUID

from django.http import HttpRequest

from tessera.core.api import ApiRouter
from tessera.core.auth import bearer_auth
from tessera.tasks.models import TaskRecord
from tessera.tasks.schemas import TaskOut, TaskProgressOut
from tessera.tasks.selectors import task_get_for_owner

router = ApiRouter(auth=bearer_auth)


def _task_out(record: TaskRecord) -> TaskOut:
    return TaskOut(
        id=record.id,
        name=record.name,
        state=record.state,
        progress=TaskProgressOut(
            current=record.progress_current,
            total=record.progress_total,
            message=record.progress_message,
        ),
        result=record.result,
        error=record.error or None,
        created_at=record.created_at,
        started_at=record.started_at,
        finished_at=record.finished_at,
    )


@router.get("/{task_id}", response=TaskOut, summary="Poll a background task you started")
def task_status(request: HttpRequest, task_id: UUID) -> TaskOut:
    return _task_out(task_get_for_owner(task_id=task_id, owner_id=request.auth.pk))  # type: ignore[attr-defined]
