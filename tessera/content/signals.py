"""Rebuild the cached document after any committed change to content (save, delete,
reorder, history revert), whichever path made it: admin, services, shell; and when an image
the content shows has been processed (its variants are new links in the document)."""

from __future__ import annotations

from typing import Any

from django.db import connection, transaction
from django.db.models.signals import post_delete, post_save

from tessera.content.models import CONTENT_MODELS, IMAGE_FIELDS
from tessera.files.purposes import Purpose as FilePurpose
from tessera.files.signals import file_ready


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


def _image_ready(sender: Any, *, file_id: Any, purpose: str, **kwargs: Any) -> None:
    """Sent after the processing commit; only images that content refers to rebuild (any
    user may upload a `content_image` file through the files API)."""
    if purpose != FilePurpose.CONTENT_IMAGE:
        return
    if any(
        model._default_manager.filter(**{field: file_id}).exists() for model, field in IMAGE_FIELDS
    ):
        schedule_rebuild()


def connect() -> None:
    file_ready.connect(_image_ready, dispatch_uid="content-image-ready")
    for model in CONTENT_MODELS:
        post_save.connect(_changed, sender=model, dispatch_uid=f"content-save-{model.__name__}")
        post_delete.connect(_changed, sender=model, dispatch_uid=f"content-delete-{model.__name__}")
