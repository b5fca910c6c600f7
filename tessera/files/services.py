"""Writes: uploads (through the API or direct to storage), completion, deletion, and files
the server writes itself (exports)."""

from __future__ import annotations

import hashlib
from collections.abc import Iterator
from contextlib import contextmanager
from dataclasses import dataclass
from datetime import datetime, timedelta
from typing import IO, Any

import structlog
from botocore.exceptions import BotoCoreError, ClientError
from django.conf import settings
from django.db import transaction
from django.utils import timezone
from django.utils.translation import gettext as _

from tessera.core.analytics import AnalyticsEvent, analytics_capture
from tessera.core.errors import ApplicationError
from tessera.core.ids import uuid7
from tessera.files.errors import (
    ChecksumMismatchError,
    EmptyFileError,
    FileRejectedError,
    FileTooLargeError,
    InvalidPurposeError,
    InvalidVisibilityError,
    SizeMismatchError,
    StorageUnavailableError,
    SuspiciousFileError,
    TypeMismatchError,
    UnsupportedFileTypeError,
    UploadExpiredError,
    UploadMissingError,
)
from tessera.files.images import image_inspect
from tessera.files.models import StoredFile
from tessera.files.names import file_name_clean
from tessera.files.processing import file_reject, objects_delete
from tessera.files.purposes import IMAGE_TYPES, PurposePolicy, policy_for
from tessera.files.selectors import file_get_for_owner, file_get_pending_upload
from tessera.files.sniffing import KNOWN_TYPES, FileType, polyglot_marker, sniff
from tessera.files.storage import DirectUpload, file_store
from tessera.files.tasks import process_image
from tessera.files.uploads import ReceivedFile, StreamAccumulator
from tessera.tasks.services import task_start

logger = structlog.get_logger("tessera.files")
Status = StoredFile.Status


@contextmanager
def _storage_errors() -> Iterator[None]:
    """A storage outage is a 503 the client may retry, never a 500."""
    try:
        yield
    except (BotoCoreError, ClientError, OSError) as exc:
        logger.exception("file_storage_error", error=repr(exc))
        raise StorageUnavailableError from exc


def _client_policy(purpose: str) -> PurposePolicy:
    policy = policy_for(purpose)
    if not policy.client_upload:
        raise InvalidPurposeError(fields={"purpose": str(InvalidPurposeError.default_message)})
    return policy


def _visibility(policy: PurposePolicy, requested: str | None) -> str:
    visibility = requested or policy.default_visibility
    if visibility not in policy.visibilities:
        raise InvalidVisibilityError(
            fields={
                "visibility": _("Allowed: %(values)s.")
                % {"values": ", ".join(sorted(policy.visibilities))}
            }
        )
    return str(visibility)


def _storage_key(*, file_id: Any, visibility: str, purpose: str, extension: str) -> str:
    return f"{visibility}/{purpose}/{file_id}/original.{extension}"


def _too_large(policy: PurposePolicy) -> FileTooLargeError:
    return FileTooLargeError(
        _("The file is larger than %(limit)d bytes, the most this purpose allows.")
        % {"limit": policy.max_bytes},
        extra={"maxBytes": policy.max_bytes},
    )


@dataclass(frozen=True)
class CheckedContent:
    file_type: FileType
    width: int | None
    height: int | None

    @property
    def is_image(self) -> bool:
        return self.file_type.content_type in IMAGE_TYPES


def _check_content(received: ReceivedFile, policy: PurposePolicy) -> CheckedContent:
    """What the bytes really are, and whether this purpose takes them."""
    if received.size == 0:
        raise EmptyFileError
    if received.size > policy.max_bytes:
        raise _too_large(policy)
    file_type = sniff(received.head)
    if file_type is None or not policy.allows_type(file_type.content_type):
        detected = file_type.content_type if file_type else _("unknown")
        raise UnsupportedFileTypeError(
            _("Files of type %(detected)s are not accepted for this purpose. Accepted: %(types)s.")
            % {"detected": detected, "types": ", ".join(sorted(policy.content_types))},
            extra={"detectedType": detected},
        )
    if file_type.content_type not in IMAGE_TYPES:
        return CheckedContent(file_type=file_type, width=None, height=None)
    marker = polyglot_marker(received.head, received.tail)
    if marker:
        raise SuspiciousFileError(
            _("The image also carries %(marker)s content.") % {"marker": marker}
        )
    header = image_inspect(received.path, content_type=file_type.content_type, policy=policy)
    return CheckedContent(file_type=file_type, width=header.width, height=header.height)


def _start_processing(stored: StoredFile, owner_id: Any) -> None:
    record = task_start(task=process_image, owner_id=owner_id, file_id=str(stored.pk))
    stored.processing_task_id = record.pk
    stored.save(update_fields=["processing_task_id", "updated_at"])


def _upload_capture(stored: StoredFile, *, direct: bool) -> None:
    """An upload is done: the bytes arrived and passed their checks (images are still
    processing). Files the system owns (admin uploads) are not product events."""
    if stored.owner_id is None:
        return
    analytics_capture(
        distinct_id=stored.owner_id,
        event=AnalyticsEvent.FILE_UPLOADED,
        properties={
            "purpose": stored.purpose,
            "content_type": stored.content_type,
            "size_bytes": stored.size,
            "direct": direct,
        },
    )


def file_upload(
    *, owner: Any, purpose: str, received: ReceivedFile, visibility: str | None = None
) -> StoredFile:
    """Check an upload that arrived through the API, store it, record it.

    `owner` None records a file the system owns (website content uploaded in the admin), which
    outlives the account of whoever uploaded it. Images are recorded as `processing` with a
    task id; other files are `ready` at once.
    A refused file never reaches storage.
    """
    policy = _client_policy(purpose)
    chosen_visibility = _visibility(policy, visibility)
    checked = _check_content(received, policy)
    file_id = uuid7()
    key = _storage_key(
        file_id=file_id,
        visibility=chosen_visibility,
        purpose=purpose,
        extension=checked.file_type.extension,
    )
    content_type = checked.file_type.content_type
    received.file.content_type = content_type
    with _storage_errors():
        file_store().save(key, received.file, content_type=content_type)
    try:
        with transaction.atomic():
            stored = StoredFile.objects.create(
                id=file_id,
                owner=owner,
                purpose=purpose,
                visibility=chosen_visibility,
                status=Status.PROCESSING if checked.is_image else Status.READY,
                storage_key=key,
                original_name=received.name,
                content_type=content_type,
                size=received.size,
                sha256=received.sha256,
                width=checked.width,
                height=checked.height,
                ready_at=None if checked.is_image else timezone.now(),
            )
            if checked.is_image:
                _start_processing(stored, getattr(owner, "pk", None))
    except BaseException:
        objects_delete([key])
        raise
    logger.info("file_uploaded", file_id=str(stored.pk), purpose=purpose, size=stored.size)
    _upload_capture(stored, direct=False)
    return stored


def file_receive(*, content: IO[bytes], name: str) -> ReceivedFile:
    """A local copy of `content`, hashed, with its head and tail kept and its name cleaned, as
    an upload through the API makes: for an app that receives a file some other way (a form
    in the admin) and gives it to `file_upload`. The caller closes it."""
    accumulator = StreamAccumulator(file_name_clean(name))
    try:
        content.seek(0)
        while chunk := content.read(256 * 1024):
            accumulator.write(chunk)
    except BaseException:
        accumulator.discard()
        raise
    return accumulator.finish()


def file_store_generated(
    *,
    owner: Any,
    purpose: str,
    content: IO[bytes],
    filename: str,
    content_type: str,
) -> StoredFile:
    """Store a file the server wrote (an export): typed by the caller, private, ready."""
    policy = policy_for(purpose)
    if content_type not in policy.content_types:
        raise UnsupportedFileTypeError
    file_id = uuid7()
    extension = KNOWN_TYPES[content_type].extension
    key = _storage_key(
        file_id=file_id, visibility=policy.default_visibility, purpose=purpose, extension=extension
    )
    hasher = hashlib.sha256()
    content.seek(0)
    size = 0
    while chunk := content.read(1024 * 1024):
        hasher.update(chunk)
        size += len(chunk)
    if size == 0:
        raise EmptyFileError
    if size > policy.max_bytes:
        raise _too_large(policy)
    content.seek(0)
    with _storage_errors():
        file_store().save(key, content, content_type=content_type)
    try:
        with transaction.atomic():
            stored = StoredFile.objects.create(
                id=file_id,
                owner=owner,
                purpose=purpose,
                visibility=policy.default_visibility,
                status=Status.READY,
                storage_key=key,
                original_name=file_name_clean(filename),
                content_type=content_type,
                size=size,
                sha256=hasher.hexdigest(),
                ready_at=timezone.now(),
            )
    except BaseException:
        objects_delete([key])
        raise
    return stored


@dataclass(frozen=True)
class DirectUploadStarted:
    file: StoredFile
    upload: DirectUpload
    expires_at: datetime


def file_direct_upload_start(
    *,
    owner: Any,
    purpose: str,
    filename: str,
    content_type: str,
    size: int,
    sha256: str,
    visibility: str | None = None,
) -> DirectUploadStarted:
    """Record a file the client will send straight to storage, and say where to send it.

    Everything declared here (size, type, checksum) is verified by `file_complete`.
    """
    policy = _client_policy(purpose)
    chosen_visibility = _visibility(policy, visibility)
    name = file_name_clean(filename)
    if size > policy.max_bytes:
        raise _too_large(policy)
    if not policy.allows_type(content_type):
        raise UnsupportedFileTypeError(
            _("Files of type %(declared)s are not accepted for this purpose. Accepted: %(types)s.")
            % {"declared": content_type, "types": ", ".join(sorted(policy.content_types))},
            fields={"contentType": _("Not accepted for this purpose.")},
        )
    file_id = uuid7()
    key = _storage_key(
        file_id=file_id,
        visibility=chosen_visibility,
        purpose=purpose,
        extension=KNOWN_TYPES[content_type].extension,
    )
    ttl = settings.FILES_UPLOAD_URL_TTL_SECONDS
    expires_at = timezone.now() + timedelta(seconds=ttl)
    stored = StoredFile.objects.create(
        id=file_id,
        owner=owner,
        purpose=purpose,
        visibility=chosen_visibility,
        status=Status.PENDING,
        storage_key=key,
        original_name=name,
        content_type=content_type,
        size=size,
        sha256=sha256.lower(),
        upload_expires_at=expires_at,
    )
    with _storage_errors():
        upload = file_store().direct_upload(
            key, file_id=str(file_id), content_type=content_type, expires_in=ttl
        )
    return DirectUploadStarted(file=stored, upload=upload, expires_at=expires_at)


def file_direct_upload_receive(
    *, file_id: Any, received: ReceivedFile, content_type: str
) -> StoredFile:
    """The local store's stand-in for a presigned PUT: keep the bytes, mark them uploaded.

    Like S3, it checks only what the link signed (the Content-Type); `file_complete` checks
    the rest.
    """
    stored = file_get_pending_upload(file_id=file_id)
    if content_type != stored.content_type:
        raise TypeMismatchError(
            _("Send the Content-Type this upload was started with: %(type)s.")
            % {"type": stored.content_type}
        )
    with _storage_errors():
        file_store().save(stored.storage_key, received.file, content_type=stored.content_type)
    StoredFile.objects.filter(pk=stored.pk, status__in=[Status.PENDING, Status.UPLOADED]).update(
        status=Status.UPLOADED, updated_at=timezone.now()
    )
    stored.refresh_from_db()
    return stored


def _fetch(stored: StoredFile) -> ReceivedFile:
    """A local copy of what arrived in storage, hashed on the way."""
    accumulator = StreamAccumulator(stored.original_name)
    try:
        for chunk in file_store().iter_chunks(stored.storage_key):
            accumulator.write(chunk)
    except BaseException:
        accumulator.discard()
        raise
    return accumulator.finish()


def _size_error(stored: StoredFile, arrived: int) -> ApplicationError:
    policy = policy_for(stored.purpose)
    if arrived > policy.max_bytes:
        return _too_large(policy)
    return SizeMismatchError(
        _("%(received)d bytes arrived; %(declared)d were declared.")
        % {"received": arrived, "declared": stored.size}
    )


def _verify_arrival(stored: StoredFile, received: ReceivedFile) -> CheckedContent:
    policy = policy_for(stored.purpose)
    if received.size != stored.size:
        raise _size_error(stored, received.size)
    if received.sha256 != stored.sha256:
        raise ChecksumMismatchError
    checked = _check_content(received, policy)
    if checked.file_type.content_type != stored.content_type:
        raise TypeMismatchError(
            _("The bytes are %(detected)s, not the declared %(declared)s.")
            % {"detected": checked.file_type.content_type, "declared": stored.content_type}
        )
    return checked


def file_complete(*, owner: Any, file_id: Any) -> StoredFile:
    """Verify what a direct upload stored (size, type, checksum) and take the file on.

    Another user's file is a 404. Completing twice returns the file as it is. A mismatch
    rejects the file, removes the object and raises the mismatch (4xx).
    """
    stored = file_get_for_owner(owner=owner, file_id=file_id)
    if stored.status in (Status.PROCESSING, Status.READY):
        return stored
    if stored.status == Status.REJECTED:
        raise FileRejectedError(extra={"rejectionCode": stored.rejection_code})
    if stored.upload_expires_at is not None and stored.upload_expires_at < timezone.now():
        error = UploadExpiredError()
        file_reject(file_id=stored.pk, error=error)
        raise error
    store = file_store()
    with _storage_errors():
        if not store.exists(stored.storage_key):
            raise UploadMissingError
        served_as = store.stored_content_type(stored.storage_key)
        arrived_size = store.size(stored.storage_key)
    if arrived_size != stored.size:
        # Refused before reading it back: S3 does not cap what a presigned PUT may send.
        size_error = _size_error(stored, arrived_size)
        file_reject(file_id=stored.pk, error=size_error)
        raise size_error
    with _storage_errors():
        received = _fetch(stored)
    try:
        if served_as is not None and served_as != stored.content_type:
            # S3 refuses a PUT whose Content-Type differs from the signed one; should a
            # store not, the object must still never be served as something else.
            raise TypeMismatchError(
                _("The upload was sent as %(sent)s, not the declared %(declared)s.")
                % {"sent": served_as, "declared": stored.content_type}
            )
        checked = _verify_arrival(stored, received)
    except ApplicationError as error:
        file_reject(file_id=stored.pk, error=error)
        raise
    finally:
        received.close()
    with transaction.atomic():
        moved = StoredFile.objects.filter(
            pk=stored.pk, status__in=[Status.PENDING, Status.UPLOADED]
        ).update(
            status=Status.PROCESSING if checked.is_image else Status.READY,
            width=checked.width,
            height=checked.height,
            upload_expires_at=None,
            ready_at=None if checked.is_image else timezone.now(),
            updated_at=timezone.now(),
        )
        stored.refresh_from_db()
        if moved and checked.is_image:
            _start_processing(stored, owner.pk)
        if moved:
            _upload_capture(stored, direct=True)
    return file_get_for_owner(owner=owner, file_id=stored.pk)


def file_delete(*, owner: Any, file_id: Any) -> None:
    """Remove the record, then (once that has committed) every object it stored."""
    stored = file_get_for_owner(owner=owner, file_id=file_id)
    keys = stored.stored_keys()
    with transaction.atomic():
        stored.delete()
        transaction.on_commit(lambda: objects_delete(keys))
    logger.info("file_deleted", file_id=str(file_id))
