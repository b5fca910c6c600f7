"""Rebuild the cached document after any committed change to content (save, delete,
reorder, history revert), whichever path made it: admin, services, shell."""

from __future__ import annotations

from typing import Any

from django.db import connection, transaction
from django.db.models.signals import post_delete, post_save

from tessera.content.models import CONTENT_MODELS


def rebuild_after_commit() -> None:
    from tessera.content.services import document_rebuild_quietly

    document_rebuild_quietly()


def schedule_rebuild() -> None:
    """Once per transaction, however many rows it changes."""
    if connection.in_atomic_block and any(
        entry[1] is rebuild_after_commit for entry in connection.run_on_commit
    ):
        return
    transaction.on_commit(rebuild_after_commit)


def _changed(sender: Any, **kwargs: Any) -> None:
    if kwargs.get("raw"):  # loaddata
        return
    schedule_rebuild()


def connect() -> None:
    for model in CONTENT_MODELS:
        post_save.connect(_changed, sender=model, dispatch_uid=f"content-save-{model.__name__}")
        post_delete.connect(_changed, sender=model, dispatch_uid=f"content-delete-{model.__name__}")
