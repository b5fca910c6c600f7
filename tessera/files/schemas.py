from __future__ import annotations

from datetime import datetime
from typing import Literal
from uuid import UUID

from pydantic import Field

from tessera.core.api import CamelSchema, InputSchema

PurposeName = Literal[
    "avatar", "profile_picture", "event_cover", "content_image", "capsule_media", "export"
]
ClientPurposeName = Literal[
    "avatar", "profile_picture", "event_cover", "content_image", "capsule_media"
]
VisibilityName = Literal["public", "private"]
StatusName = Literal["pending", "uploaded", "processing", "ready", "rejected"]


class UploadParams(CamelSchema):
    purpose: ClientPurposeName = Field(description="What the file is for; sets its limits.")
    visibility: VisibilityName | None = Field(
        None, description="Public or private; the purpose's default when left out."
    )


class VariantOut(CamelSchema):
    url: str
    content_type: str
    width: int
    height: int
    size: int


class VariantsOut(CamelSchema):
    thumbnail: VariantOut | None = Field(None, description="256 px on the longer side.")
    medium: VariantOut | None = Field(None, description="1024 px on the longer side.")
    thumbnail_webp: VariantOut | None = None
    medium_webp: VariantOut | None = None


class FileRefOut(CamelSchema):
    """A file as other resources embed it (an event's cover, a user's avatar)."""

    id: UUID
    purpose: str
    status: str
    content_type: str
    width: int | None
    height: int | None
    url: str | None = Field(description="Null until the file is ready.")
    url_expires_at: datetime | None = Field(
        description="When a private file's links stop working; null for public files."
    )
    variants: VariantsOut


class FileOut(FileRefOut):
    """A file, as its owner sees it."""

    visibility: str
    original_name: str
    size: int
    sha256: str
    task_id: UUID | None = Field(description="The processing task to poll while processing.")
    rejection_code: str | None
    rejection_message: str | None
    upload_expires_at: datetime | None
    created_at: datetime
    updated_at: datetime


class FileFilter(CamelSchema):
    purpose: PurposeName | None = None
    status: StatusName | None = None


class DirectUploadIn(InputSchema):
    purpose: ClientPurposeName
    visibility: VisibilityName | None = None
    filename: str = Field(min_length=1, max_length=1000)
    content_type: str = Field(
        min_length=3, max_length=100, description="Sent as the PUT's Content-Type; verified."
    )
    size: int = Field(gt=0, le=2**53, description="Exact size in bytes; verified.")
    sha256: str = Field(pattern=r"^[0-9a-fA-F]{64}$", description="Hex SHA-256; verified.")


class DirectUploadTargetOut(CamelSchema):
    method: str
    url: str
    headers: dict[str, str]
    expires_at: datetime


class DirectUploadOut(CamelSchema):
    file: FileOut
    upload: DirectUploadTargetOut
