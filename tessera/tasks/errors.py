"""The tasks module's error codes."""

from __future__ import annotations

from django.utils.translation import gettext_lazy as _

from tessera.core.errors import ErrorCode, NotFoundError


class TasksErrorCode(ErrorCode):
    TASK_NOT_FOUND = "task_not_found"


class TaskNotFoundError(NotFoundError):
    code = TasksErrorCode.TASK_NOT_FOUND
    default_message = _("No task with this id.")
