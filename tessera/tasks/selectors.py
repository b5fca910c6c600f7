from __future__ import annotations

from typing import Any

from tessera.tasks.errors import TaskNotFoundError
from tessera.tasks.models import TaskRecord


def task_get_for_owner(*, task_id: Any, owner_id: Any) -> TaskRecord:
    """The task, if `owner` started it; anyone else gets the same 404 as for no task."""
    record = TaskRecord.objects.filter(pk=task_id, owner_id=owner_id).first()
    if record is None:
        raise TaskNotFoundError
    return record
