"""Thin Celery tasks over the files services. Both are idempotent."""

from __future__ import annotations

from typing import Any

from botocore.exceptions import BotoCoreError
from celery import shared_task

from tessera.core.jobs import TRANSIENT_ERRORS, TesseraTask
from tessera.files.processing import file_process_image, files_cleanup


@shared_task(
    base=TesseraTask,
    name="files.process_image",
    autoretry_for=(*TRANSIENT_ERRORS, BotoCoreError),
)
def process_image(file_id: str) -> str:
    """Variants for one image; storage hiccups retry with backoff and jitter."""
    return file_process_image(file_id=file_id)


@shared_task(
    base=TesseraTask, name="files.cleanup", autoretry_for=(*TRANSIENT_ERRORS, BotoCoreError)
)
def cleanup() -> dict[str, Any]:
    """The daily sweep (django-celery-beat runs it; `manage.py files_cleanup` by hand)."""
    return files_cleanup().as_dict()
