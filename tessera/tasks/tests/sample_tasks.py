"""Tasks used only by the tests: one reports progress and returns, one always fails."""

from __future__ import annotations

from typing import Any

from celery import shared_task

from tessera.core.jobs import TesseraTask
from tessera.tasks.services import task_report_progress


@shared_task(base=TesseraTask, bind=True, name="tests.count_words")
def count_words(self: Any, *, text: str) -> dict[str, int]:
    words = text.split()
    task_report_progress(
        task_id=self.request.id, current=len(words), total=len(words), message="counted"
    )
    return {"words": len(words)}


@shared_task(base=TesseraTask, name="tests.always_fails", autoretry_for=(), max_retries=0)
def always_fails(*, reason: str) -> None:
    raise ValueError(reason)
