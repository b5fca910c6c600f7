from __future__ import annotations

from datetime import datetime
from typing import Any
from uuid import UUID

from tessera.core.api import CamelSchema


class TaskProgressOut(CamelSchema):
    current: int
    total: int
    message: str


class TaskOut(CamelSchema):
    id: UUID
    name: str
    state: str
    progress: TaskProgressOut
    result: Any | None
    error: str | None
    created_at: datetime
    started_at: datetime | None
    finished_at: datetime | None
