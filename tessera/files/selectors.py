"""Reads: a user's files, attachable files for other apps, and the links to render them."""

from __future__ import annotations

import posixpath
from datetime import timedelta
from typing import Any

from django.conf import settings
from django.db.models import QuerySet
from django.utils import timezone

from tessera.core.context import ClientContext
from tessera.files.errors import (
    FileNotAttachableError,
    FilePurposeMismatchError,
    StoredFileNotFoundError,
    UploadExpiredError,
    UploadNotPendingError,
)
from tessera.files.models import FileVariant, StoredFile
from tessera.files.schemas import FileOut, FileRefOut, VariantOut, VariantsOut
from tessera.files.storage import file_store

# Served inline (shown in the page); everything else downloads as an attachment.
_INLINE_PREFIXES = ("image/", "video/", "audio/")


def file_get_for_owner(*, owner: Any, file_id: Any) -> StoredFile:
    """The file if `owner` owns it; anyone else's is the same 404 as no file."""
    owner_id = getattr(owner, "pk", None)
    found = (
        StoredFile.objects.filter(pk=file_id, owner_id=owner_id)
        .prefetch_related("variants")
        .first()
        if owner_id is not None
        else None
    )
    if found is None:
        raise StoredFileNotFoundError
    return found


def file_get_pending_upload(*, file_id: Any) -> StoredFile:
    """A file still waiting for the bytes of its direct upload, within its window."""
    stored = StoredFile.objects.filter(pk=file_id).first()
    if stored is None:
        raise StoredFileNotFoundError
    if stored.status not in (StoredFile.Status.PENDING, StoredFile.Status.UPLOADED):
        raise UploadNotPendingError
    if stored.upload_expires_at is not None and stored.upload_expires_at < timezone.now():
        raise UploadExpiredError
    return stored


def file_list_for_owner(
    *, owner: Any, purpose: str | None = None, status: str | None = None
) -> QuerySet[StoredFile]:
    files = StoredFile.objects.filter(owner=owner).prefetch_related("variants")
    if purpose:
        files = files.filter(purpose=purpose)
    if status:
        files = files.filter(status=status)
    return files.order_by("-created_at", "-id")


def file_get_attachable(*, owner: Any, file_id: Any, purpose: str) -> StoredFile:
    """For other apps, before they store a reference: the file must be `owner`'s (else 404),
    uploaded for `purpose` (else 422) and not rejected or still awaiting its bytes (else
    409). A file still processing may be attached; its variants appear when ready."""
    stored = file_get_for_owner(owner=owner, file_id=file_id)
    if stored.purpose != purpose:
        raise FilePurposeMismatchError(extra={"expectedPurpose": purpose})
    if stored.status not in (StoredFile.Status.PROCESSING, StoredFile.Status.READY):
        raise FileNotAttachableError
    return stored


def _download_name(stored: StoredFile, variant: FileVariant | None) -> str:
    if variant is None:
        return stored.original_name
    stem = posixpath.splitext(stored.original_name)[0] or "file"
    extension = posixpath.splitext(variant.storage_key)[1]
    return f"{stem}-{variant.name}{extension}"


def _absolute(url: str, client: ClientContext | None) -> str:
    return client.absolute(url) if client is not None else url


def _link(
    stored: StoredFile,
    *,
    key: str,
    content_type: str,
    name: str,
    client: ClientContext | None,
) -> str:
    store = file_store()
    if stored.is_public:
        url = store.public_url(key)
    else:
        url = store.private_url(
            key,
            filename=name,
            content_type=content_type,
            attachment=not content_type.startswith(_INLINE_PREFIXES),
            expires_in=settings.FILES_PRIVATE_URL_TTL_SECONDS,
        )
    return _absolute(url, client)


def file_ref(
    stored: StoredFile | None,
    *,
    viewer: Any = None,
    client: ClientContext | None = None,
    grant_private: bool = False,
) -> FileRefOut | None:
    """How another app's reply shows an attached file.

    Public files have links for anyone. A private file has links only for its owner, or
    when the calling app has decided the viewer may see it (`grant_private=True`, e.g. a
    capsule's recipient); otherwise the reference is returned without links.
    """
    if stored is None:
        return None
    allowed = stored.is_public or grant_private or _is_owner(stored, viewer)
    return FileRefOut(**_ref_fields(stored, client=client, with_links=allowed))


def files_for_refs(*, file_ids: Any) -> dict[Any, StoredFile]:
    """Files by id with their variants, ready for `file_ref` (another app's list whose rows
    name their files)."""
    return {
        stored.pk: stored
        for stored in StoredFile.objects.filter(pk__in=file_ids).prefetch_related("variants")
    }


def _is_owner(stored: StoredFile, viewer: Any) -> bool:
    viewer_id = getattr(viewer, "pk", None)
    return viewer_id is not None and stored.owner_id == viewer_id


def _ref_fields(
    stored: StoredFile, *, client: ClientContext | None, with_links: bool
) -> dict[str, Any]:
    ready = stored.status == StoredFile.Status.READY and with_links
    variants: dict[str, VariantOut] = {}
    if ready:
        for variant in stored.variants.all():
            variants[variant.name] = VariantOut(
                url=_link(
                    stored,
                    key=variant.storage_key,
                    content_type=variant.content_type,
                    name=_download_name(stored, variant),
                    client=client,
                ),
                content_type=variant.content_type,
                width=variant.width,
                height=variant.height,
                size=variant.size,
            )
    url = (
        _link(
            stored,
            key=stored.storage_key,
            content_type=stored.content_type,
            name=stored.original_name,
            client=client,
        )
        if ready
        else None
    )
    expires = (
        timezone.now() + timedelta(seconds=settings.FILES_PRIVATE_URL_TTL_SECONDS)
        if ready and not stored.is_public
        else None
    )
    return {
        "id": stored.pk,
        "purpose": stored.purpose,
        "status": stored.status,
        "content_type": stored.content_type,
        "width": stored.width,
        "height": stored.height,
        "url": url,
        "url_expires_at": expires,
        "variants": VariantsOut(**variants),
    }


def file_out(stored: StoredFile, *, client: ClientContext | None = None) -> FileOut:
    """The file as its owner sees it: metadata, state and links."""
    processing = stored.status == StoredFile.Status.PROCESSING
    return FileOut(
        **_ref_fields(stored, client=client, with_links=True),
        visibility=stored.visibility,
        original_name=stored.original_name,
        size=stored.size,
        sha256=stored.sha256,
        task_id=stored.processing_task_id if processing else None,
        rejection_code=stored.rejection_code or None,
        rejection_message=stored.rejection_message or None,
        upload_expires_at=stored.upload_expires_at
        if stored.status in (StoredFile.Status.PENDING, StoredFile.Status.UPLOADED)
        else None,
        created_at=stored.created_at,
        updated_at=stored.updated_at,
    )


def public_object_content_type(*, key: str) -> str | None:
    """The content type of a ready public file or variant stored at `key`, else None."""
    original = (
        StoredFile.objects.filter(
            storage_key=key, status=StoredFile.Status.READY, visibility="public"
        )
        .values_list("content_type", flat=True)
        .first()
    )
    if original is not None:
        return str(original)
    variant = (
        FileVariant.objects.filter(
            storage_key=key, file__status=StoredFile.Status.READY, file__visibility="public"
        )
        .values_list("content_type", flat=True)
        .first()
    )
    return str(variant) if variant is not None else None
