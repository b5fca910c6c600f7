"""Where file bytes live: a small interface with a local and an S3 adapter.

`file_store()` returns the one configured by `FILES_STORAGE_BACKEND` ("local" in the
embedded default, "s3" when a bucket is configured). Both sit on Django storages
(FileSystemStorage; django-storages' S3Storage over boto3); this layer adds what Tessera
needs on top: public and private URLs, presigned direct uploads, streaming reads for
checksums, and listing for the orphan sweep.

Keys start with the visibility (`public/…`, `private/…`). Locally, only `public/` is served
at MEDIA_URL; private files go through a signed, short-lived Django URL. On S3, public keys
are served by plain URLs (the bucket policy or a CDN must allow `public/*`), private ones by
presigned URLs.
"""

from __future__ import annotations

import tempfile
from collections.abc import Iterator
from dataclasses import dataclass, field
from datetime import UTC, datetime
from functools import lru_cache
from pathlib import Path
from typing import IO, Any
from urllib.parse import quote

from django.conf import settings
from django.core import signing
from django.core.files import File
from django.core.files.storage import FileSystemStorage
from django.core.signals import setting_changed
from django.urls import reverse
from django.utils.http import content_disposition_header

CHUNK = 1024 * 1024
PRIVATE_LINK_SALT = "tessera.files.private-link"
UPLOAD_LINK_SALT = "tessera.files.upload-link"


@dataclass(frozen=True)
class StoredObject:
    key: str
    size: int
    modified_at: datetime


@dataclass(frozen=True)
class DirectUpload:
    """How a client sends the bytes itself: one request, exactly as described."""

    method: str
    url: str
    headers: dict[str, str] = field(default_factory=dict)


class FileStore:
    """Base of the storage adapters; keys are relative, `/`-separated, made by Tessera."""

    name = "base"

    def save(self, key: str, content: IO[bytes], *, content_type: str) -> None:
        raise NotImplementedError

    def delete(self, key: str) -> None:
        raise NotImplementedError

    def exists(self, key: str) -> bool:
        raise NotImplementedError

    def size(self, key: str) -> int:
        raise NotImplementedError

    def iter_chunks(self, key: str, *, chunk_size: int = CHUNK) -> Iterator[bytes]:
        raise NotImplementedError

    def stored_content_type(self, key: str) -> str | None:
        """The Content-Type the store will serve the object with, where a client could set it."""
        return None

    def local_path(self, key: str) -> Path | None:
        """A path on this machine holding the object, when the store is local."""
        return None

    def download(self, key: str) -> IO[bytes]:
        """A temporary local copy (deleted when closed), for Pillow and checksums."""
        copy = tempfile.NamedTemporaryFile(  # noqa: SIM115 - the caller closes it
            prefix="tessera-", suffix=".download", dir=settings.FILE_UPLOAD_TEMP_DIR
        )
        for chunk in self.iter_chunks(key):
            copy.write(chunk)
        copy.flush()
        copy.seek(0)
        return copy

    def list(self, prefix: str) -> Iterator[StoredObject]:
        raise NotImplementedError

    def public_url(self, key: str) -> str:
        raise NotImplementedError

    def private_url(
        self, key: str, *, filename: str, content_type: str, attachment: bool, expires_in: int
    ) -> str:
        raise NotImplementedError

    def direct_upload(
        self, key: str, *, file_id: str, content_type: str, expires_in: int
    ) -> DirectUpload:
        raise NotImplementedError

    def image_origin(self) -> str | None:
        """The origin URLs of this store point at, when not this site (for the admin's CSP)."""
        return None


def _upload_link(file_id: str) -> str:
    token = signing.dumps({"f": file_id}, salt=UPLOAD_LINK_SALT)
    return reverse("files-direct-upload", kwargs={"token": token})


class LocalFileStore(FileStore):
    """Files under MEDIA_ROOT; public ones at MEDIA_URL, private ones by signed links."""

    name = "local"

    def __init__(self) -> None:
        self.root = Path(settings.MEDIA_ROOT)
        self.storage = FileSystemStorage(
            location=self.root, base_url=settings.MEDIA_URL, allow_overwrite=True
        )

    def save(self, key: str, content: IO[bytes], *, content_type: str) -> None:
        django_file = content if isinstance(content, File) else File(content, name=key)
        saved = self.storage.save(key, django_file)
        if saved != key:  # pragma: no cover - keys are unique and overwrite is allowed
            raise RuntimeError(f"storage renamed {key!r} to {saved!r}")

    def delete(self, key: str) -> None:
        self.storage.delete(key)
        self._prune_empty_dirs(key)

    def _prune_empty_dirs(self, key: str) -> None:
        folder = (self.root / key).parent
        while folder != self.root and self.root in folder.parents:
            try:
                folder.rmdir()
            except OSError:
                return
            folder = folder.parent

    def exists(self, key: str) -> bool:
        return bool(self.storage.exists(key))

    def size(self, key: str) -> int:
        return int(self.storage.size(key))

    def iter_chunks(self, key: str, *, chunk_size: int = CHUNK) -> Iterator[bytes]:
        with self.storage.open(key, "rb") as handle:
            while chunk := handle.read(chunk_size):
                yield chunk

    def local_path(self, key: str) -> Path | None:
        return Path(self.storage.path(key))

    def list(self, prefix: str) -> Iterator[StoredObject]:
        base = self.root / prefix
        if not base.is_dir():
            return
        for path in sorted(base.rglob("*")):
            if path.is_file():
                stat = path.stat()
                yield StoredObject(
                    key=path.relative_to(self.root).as_posix(),
                    size=stat.st_size,
                    modified_at=datetime.fromtimestamp(stat.st_mtime, tz=UTC),
                )

    def public_url(self, key: str) -> str:
        base = settings.FILES_PUBLIC_BASE_URL or settings.MEDIA_URL
        return f"{base.rstrip('/')}/{quote(key)}"

    def private_url(
        self, key: str, *, filename: str, content_type: str, attachment: bool, expires_in: int
    ) -> str:
        token = signing.dumps(
            {"k": key, "n": filename, "t": content_type, "a": int(attachment)},
            salt=PRIVATE_LINK_SALT,
            compress=True,
        )
        return reverse("files-private", kwargs={"token": token})

    def direct_upload(
        self, key: str, *, file_id: str, content_type: str, expires_in: int
    ) -> DirectUpload:
        return DirectUpload(
            method="PUT", url=_upload_link(file_id), headers={"Content-Type": content_type}
        )


class S3FileStore(FileStore):
    """An S3 bucket (AWS, MinIO, moto) through django-storages' S3Storage and boto3."""

    name = "s3"

    def __init__(self) -> None:
        from boto3.s3.transfer import TransferConfig
        from storages.backends.s3 import S3Storage

        # Two parts in flight of 8 MiB each: uploads stay within a few tens of MiB of memory
        # whatever the file's size (boto3's default is ten in flight).
        transfer = TransferConfig(
            multipart_threshold=8 * CHUNK, multipart_chunksize=8 * CHUNK, max_concurrency=2
        )
        options: dict[str, Any] = {
            "bucket_name": settings.AWS_STORAGE_BUCKET_NAME,
            "region_name": settings.AWS_S3_REGION_NAME,
            "endpoint_url": settings.AWS_S3_ENDPOINT_URL,
            "addressing_style": settings.AWS_S3_ADDRESSING_STYLE,
            "signature_version": "s3v4",
            "file_overwrite": True,
            "default_acl": None,
            "transfer_config": transfer,
            "querystring_expire": settings.FILES_PRIVATE_URL_TTL_SECONDS,
        }
        if settings.AWS_ACCESS_KEY_ID:
            options["access_key"] = settings.AWS_ACCESS_KEY_ID
            options["secret_key"] = settings.AWS_SECRET_ACCESS_KEY
        self.bucket_name = settings.AWS_STORAGE_BUCKET_NAME
        self.storage = S3Storage(querystring_auth=True, **options)
        self.public_storage = S3Storage(querystring_auth=False, **options)

    @property
    def client(self) -> Any:
        return self.storage.connection.meta.client

    def save(self, key: str, content: IO[bytes], *, content_type: str) -> None:
        django_file = File(content, name=key)
        django_file.content_type = content_type  # type: ignore[attr-defined]
        self.storage.save(key, django_file)

    def delete(self, key: str) -> None:
        self.storage.delete(key)

    def exists(self, key: str) -> bool:
        return bool(self.storage.exists(key))

    def size(self, key: str) -> int:
        return int(self.storage.size(key))

    def stored_content_type(self, key: str) -> str | None:
        head = self.client.head_object(Bucket=self.bucket_name, Key=key)
        return str(head.get("ContentType") or "")

    def iter_chunks(self, key: str, *, chunk_size: int = CHUNK) -> Iterator[bytes]:
        body = self.client.get_object(Bucket=self.bucket_name, Key=key)["Body"]
        try:
            yield from body.iter_chunks(chunk_size)
        finally:
            body.close()

    def list(self, prefix: str) -> Iterator[StoredObject]:
        paginator = self.client.get_paginator("list_objects_v2")
        for page in paginator.paginate(Bucket=self.bucket_name, Prefix=prefix):
            for entry in page.get("Contents", ()):
                yield StoredObject(
                    key=entry["Key"], size=entry["Size"], modified_at=entry["LastModified"]
                )

    def public_url(self, key: str) -> str:
        if settings.FILES_PUBLIC_BASE_URL:
            return f"{settings.FILES_PUBLIC_BASE_URL.rstrip('/')}/{quote(key)}"
        return str(self.public_storage.url(key))

    def private_url(
        self, key: str, *, filename: str, content_type: str, attachment: bool, expires_in: int
    ) -> str:
        return str(
            self.storage.url(
                key,
                parameters={
                    "ResponseContentType": content_type,
                    "ResponseContentDisposition": content_disposition_header(
                        as_attachment=attachment, filename=filename
                    ),
                    "ResponseCacheControl": f"private, max-age={expires_in}",
                },
                expire=expires_in,
            )
        )

    def direct_upload(
        self, key: str, *, file_id: str, content_type: str, expires_in: int
    ) -> DirectUpload:
        # Content-Type is signed: S3 refuses a PUT with another one.
        url = self.client.generate_presigned_url(
            "put_object",
            Params={"Bucket": self.bucket_name, "Key": key, "ContentType": content_type},
            ExpiresIn=expires_in,
            HttpMethod="PUT",
        )
        return DirectUpload(method="PUT", url=url, headers={"Content-Type": content_type})

    def image_origin(self) -> str | None:
        from urllib.parse import urlsplit

        sample = self.public_url("public/x")
        parts = urlsplit(sample)
        return f"{parts.scheme}://{parts.netloc}" if parts.netloc else None


STORES: dict[str, type[FileStore]] = {"local": LocalFileStore, "s3": S3FileStore}


@lru_cache(maxsize=1)
def file_store() -> FileStore:
    backend = settings.FILES_STORAGE_BACKEND
    if backend not in STORES:
        raise ValueError(f"FILES_STORAGE_BACKEND must be one of {sorted(STORES)}, not {backend!r}")
    return STORES[backend]()


_STORE_SETTINGS = frozenset(
    {
        "FILES_STORAGE_BACKEND",
        "FILES_PUBLIC_BASE_URL",
        "FILES_PRIVATE_URL_TTL_SECONDS",
        "MEDIA_ROOT",
        "MEDIA_URL",
        "AWS_STORAGE_BUCKET_NAME",
        "AWS_S3_REGION_NAME",
        "AWS_S3_ENDPOINT_URL",
        "AWS_S3_ADDRESSING_STYLE",
        "AWS_ACCESS_KEY_ID",
        "AWS_SECRET_ACCESS_KEY",
    }
)


def _reset_on_setting_change(*, setting: str, **_: Any) -> None:
    if setting in _STORE_SETTINGS:
        file_store.cache_clear()


def connect_settings_reset() -> None:
    setting_changed.connect(_reset_on_setting_change, dispatch_uid="tessera.files.store")
