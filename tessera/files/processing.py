"""Background work on stored files: image variants, rejection, and the daily cleanup.

These are services the Celery tasks call (and `services` uses for rejection); each is safe to
run twice.
"""

from __future__ import annotations

import hashlib
import posixpath
import uuid
from collections.abc import Iterable, Iterator
from contextlib import ExitStack
from dataclasses import dataclass
from datetime import datetime, timedelta
from typing import Any

import structlog
from django.conf import settings
from django.db import models, transaction
from django.utils import timezone

from tessera.core.errors import ApplicationError
from tessera.files.errors import ImageTooLargeError, InvalidImageError
from tessera.files.images import image_process
from tessera.files.models import FileVariant, StoredFile
from tessera.files.purposes import POLICIES, policy_for
from tessera.files.signals import file_ready
from tessera.files.storage import file_store

logger = structlog.get_logger("tessera.files")

Status = StoredFile.Status
_EXTENSIONS = {"image/jpeg": "jpg", "image/png": "png", "image/webp": "webp"}


def objects_delete(keys: Iterable[str]) -> int:
    """Delete storage objects; a missing one is not an error."""
    store = file_store()
    deleted = 0
    for key in keys:
        store.delete(key)
        deleted += 1
    return deleted


def file_reject(*, file_id: Any, error: ApplicationError) -> None:
    """Mark a file rejected with the refusal's code, and remove everything it stored."""
    stored = StoredFile.objects.filter(pk=file_id).prefetch_related("variants").first()
    if stored is None:
        return
    objects_delete(stored.stored_keys())
    with transaction.atomic():
        FileVariant.objects.filter(file_id=file_id).delete()
        StoredFile.objects.filter(pk=file_id).exclude(status=Status.READY).update(
            status=Status.REJECTED,
            rejection_code=error.code[:50],
            rejection_message=str(error.message)[:300],
            processing_task_id=None,
            updated_at=timezone.now(),
        )
    logger.info("file_rejected", file_id=str(file_id), code=error.code)


def _sha256(data: Any) -> str:
    data.seek(0)
    digest = hashlib.file_digest(data, "sha256").hexdigest()
    data.seek(0)
    return digest


def _announce_ready(*, file_id: Any, purpose: str) -> None:
    """`file_ready` to the apps that show the file; a failing receiver is logged, never undoes
    or retries the processing that has committed."""
    for receiver, outcome in file_ready.send_robust(
        sender=StoredFile, file_id=file_id, purpose=purpose
    ):
        if isinstance(outcome, Exception):
            logger.error(
                "file_ready_receiver_failed",
                file_id=str(file_id),
                receiver=getattr(receiver, "__qualname__", repr(receiver)),
                error=repr(outcome),
            )


def file_process_image(*, file_id: str) -> str:
    """Orient, strip and re-encode the original, write the variants, mark the file ready.

    Returns the file's status afterwards ("missing" when it was deleted). A file not in
    `processing` is left alone, so a redelivered task does nothing twice.
    """
    stored = StoredFile.objects.filter(pk=file_id).first()
    if stored is None:
        return "missing"
    if stored.status != Status.PROCESSING:
        return str(stored.status)
    policy = policy_for(stored.purpose)
    store = file_store()
    with ExitStack() as stack:
        local = store.local_path(stored.storage_key)
        if local is not None:
            path = str(local)
        else:
            copy = stack.enter_context(store.download(stored.storage_key))
            path = copy.name
        try:
            processed = image_process(path, policy=policy)
        except (InvalidImageError, ImageTooLargeError) as exc:
            file_reject(file_id=stored.pk, error=exc)
            return str(Status.REJECTED)
        stack.callback(processed.close)

        folder = posixpath.dirname(stored.storage_key)
        original = processed.original
        original_sha = _sha256(original.data)
        written: list[str] = []
        rows = []
        for variant in processed.variants:
            stem = variant.name.removesuffix("_webp")
            key = f"{folder}/{stem}.{_EXTENSIONS[variant.content_type]}"
            store.save(key, variant.data, content_type=variant.content_type)
            written.append(key)
            rows.append((variant, key))
        # The original is overwritten last: until then a retry still finds the upload.
        store.save(stored.storage_key, original.data, content_type=original.content_type)

        with transaction.atomic():
            current = (
                StoredFile.objects.select_for_update()
                .filter(pk=stored.pk, status=Status.PROCESSING)
                .first()
            )
            if current is None:
                still_there = StoredFile.objects.filter(pk=stored.pk).exists()
                if not still_there:
                    # Deleted while we worked: take back what we wrote.
                    objects_delete([*written, stored.storage_key])
                    return "missing"
                return str(StoredFile.objects.values_list("status", flat=True).get(pk=stored.pk))
            for variant, key in rows:
                FileVariant.objects.update_or_create(
                    file=current,
                    name=variant.name,
                    defaults={
                        "storage_key": key,
                        "content_type": variant.content_type,
                        "size": variant.size,
                        "width": variant.width,
                        "height": variant.height,
                    },
                )
            now = timezone.now()
            StoredFile.objects.filter(pk=current.pk).update(
                status=Status.READY,
                size=original.size,
                sha256=original_sha,
                width=original.width,
                height=original.height,
                content_type=original.content_type,
                processing_task_id=None,
                ready_at=now,
                updated_at=now,
            )
            ready_id, purpose = current.pk, current.purpose
            transaction.on_commit(lambda: _announce_ready(file_id=ready_id, purpose=purpose))
    logger.info("file_processed", file_id=str(stored.pk), variants=len(rows))
    return str(Status.READY)


# --- cleanup -----------------------------------------------------------------------------------


@dataclass
class CleanupReport:
    abandoned_uploads: int = 0
    rejected_records: int = 0
    unattached_files: int = 0
    orphan_objects: int = 0
    requeued: int = 0

    def as_dict(self) -> dict[str, int]:
        return dict(self.__dict__)


def _referencing_fields() -> Iterator[Any]:
    """Every foreign key to StoredFile in every model: StoredFileFields, plain keys, the
    through tables of many-to-many relations, and history tables (django-simple-history).

    Read from each model's own fields: StoredFile's reverse relations are cached once, and
    models registered after that (history models are) can be missing from that cache."""
    from django.apps import apps

    for model in apps.get_models(include_auto_created=True):
        if model is FileVariant:
            continue
        for field in model._meta.concrete_fields:
            if field.is_relation and field.related_model is StoredFile:
                yield field


def _referenced_ids(ids: list[Any]) -> set[Any]:
    found: set[Any] = set()
    for field in _referencing_fields():
        found.update(
            field.model._base_manager.filter(**{f"{field.attname}__in": ids}).values_list(
                field.attname, flat=True
            )
        )
    return found


def _delete_files(files: models.QuerySet[StoredFile]) -> int:
    count = 0
    for stored in files.prefetch_related("variants").iterator(chunk_size=200):
        objects_delete(stored.stored_keys())
        stored.delete()
        count += 1
    return count


def _unattached(now: datetime) -> int:
    removed = 0
    for purpose, policy in POLICIES.items():
        if policy.unattached_ttl_hours is None:
            continue
        cutoff = now - timedelta(hours=policy.unattached_ttl_hours)
        candidates = list(
            StoredFile.objects.filter(
                purpose=purpose,
                status__in=[Status.PROCESSING, Status.READY],
                created_at__lt=cutoff,
            ).values_list("pk", flat=True)[:5000]
        )
        if not candidates:
            continue
        unreferenced = set(candidates) - _referenced_ids(candidates)
        removed += _delete_files(StoredFile.objects.filter(pk__in=unreferenced))
    return removed


def _orphan_objects(now: datetime) -> int:
    """Objects no record knows (a crash between storing and committing, a record removed
    while its objects' deletion failed), older than the grace period."""
    store = file_store()
    cutoff = now - timedelta(hours=settings.FILES_ORPHAN_GRACE_HOURS)
    removed = 0
    for prefix in ("public/", "private/"):
        batch: list[str] = []
        for stored_object in store.list(prefix):
            if stored_object.modified_at < cutoff:
                batch.append(stored_object.key)
            if len(batch) >= 500:
                removed += _delete_unknown(batch)
                batch = []
        if batch:
            removed += _delete_unknown(batch)
    return removed


def _file_id_of(key: str) -> str | None:
    parts = key.split("/")
    if len(parts) != 4:
        return None
    try:
        return str(uuid.UUID(parts[2]))
    except ValueError:
        return None


def _delete_unknown(keys: list[str]) -> int:
    known = set(
        StoredFile.objects.filter(storage_key__in=keys).values_list("storage_key", flat=True)
    )
    known |= set(
        FileVariant.objects.filter(storage_key__in=keys).values_list("storage_key", flat=True)
    )
    unknown = [key for key in keys if key not in known]
    # A processing task writes variant objects just before their rows: spare the objects of
    # files that still exist.
    owners = {file_id for file_id in map(_file_id_of, unknown) if file_id}
    live = {str(pk) for pk in StoredFile.objects.filter(pk__in=owners).values_list("pk", flat=True)}
    return objects_delete(key for key in unknown if _file_id_of(key) not in live)


def files_cleanup(*, now: datetime | None = None) -> CleanupReport:
    """The daily sweep: abandoned direct uploads, old rejected records, unattached files,
    orphaned objects; files stuck in processing are queued again."""
    from tessera.files.tasks import process_image  # the task module imports this one

    now = now or timezone.now()
    report = CleanupReport()
    grace = timedelta(hours=settings.FILES_ORPHAN_GRACE_HOURS)
    report.abandoned_uploads = _delete_files(
        StoredFile.objects.filter(
            status__in=[Status.PENDING, Status.UPLOADED], upload_expires_at__lt=now - grace
        )
    )
    report.rejected_records = _delete_files(
        StoredFile.objects.filter(
            status=Status.REJECTED,
            updated_at__lt=now - timedelta(days=settings.FILES_REJECTED_RETENTION_DAYS),
        )
    )
    report.unattached_files = _unattached(now)
    stuck = StoredFile.objects.filter(
        status=Status.PROCESSING, updated_at__lt=now - timedelta(hours=1)
    ).values_list("pk", flat=True)
    for file_id in stuck:
        process_image.apply_async(kwargs={"file_id": str(file_id)})
        report.requeued += 1
    report.orphan_objects = _orphan_objects(now)
    logger.info("files_cleanup", **report.as_dict())
    return report
