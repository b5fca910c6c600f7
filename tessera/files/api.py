"""Uploads and the signed-in user's files."""

# No `from __future__ import annotations` here: Ninja builds the `Query[...]` parameter model
# from the evaluated annotation.
from typing import Any
from uuid import UUID

from django.conf import settings
from django.db.models import QuerySet
from django.http import HttpRequest
from ninja import Query, Status
from ninja.pagination import paginate
from ninja.throttling import BaseThrottle

from tessera.core.api import ApiRouter
from tessera.core.auth import bearer_auth, require_user
from tessera.core.context import client_context
from tessera.core.idempotency import idempotent
from tessera.core.pagination import PagePagination
from tessera.core.ratelimit import RateLimit
from tessera.files import selectors, services
from tessera.files.purposes import policy_for
from tessera.files.schemas import (
    DirectUploadIn,
    DirectUploadOut,
    DirectUploadTargetOut,
    FileFilter,
    FileOut,
    UploadParams,
)
from tessera.files.uploads import FILE_FIELD, receive_multipart

router = ApiRouter(auth=bearer_auth)

_UPLOAD_LIMIT: list[BaseThrottle] = [
    RateLimit(settings.FILES_UPLOAD_RATE, key="user", scope="files:upload")
]
_MULTIPART_BODY = {
    "requestBody": {
        "required": True,
        "content": {
            "multipart/form-data": {
                "schema": {
                    "type": "object",
                    "required": [FILE_FIELD],
                    "properties": {
                        FILE_FIELD: {
                            "type": "string",
                            "format": "binary",
                            "description": "The file, with its name. Its type is read from "
                            "its bytes; the part's Content-Type is ignored.",
                        }
                    },
                }
            }
        },
    }
}


class _RenderedPage:
    """A queryset that pagination slices and counts, rendering only the page it returns."""

    def __init__(self, files: QuerySet[Any], request: HttpRequest) -> None:
        self.files = files
        self.request = request

    def __len__(self) -> int:
        return int(self.files.count())

    def __getitem__(self, window: slice) -> list[FileOut]:
        client = client_context(self.request)
        return [selectors.file_out(stored, client=client) for stored in self.files[window]]


@router.post(
    "",
    response={201: FileOut},
    summary="Upload a file (multipart/form-data, field `file`)",
    description="Limits on size and type depend on `purpose`; a body over the limit is refused "
    "with 413 before it is read. Images come back `processing` with the `taskId` of the job "
    "that strips their metadata and renders the variants; poll the file or the task. Other "
    "files are `ready` at once.",
    openapi_extra=_MULTIPART_BODY,
    throttle=_UPLOAD_LIMIT,
)
@idempotent
def file_upload(request: HttpRequest, params: Query[UploadParams]) -> Any:
    user = require_user(request)
    received = receive_multipart(request, max_bytes=policy_for(params.purpose).max_bytes)
    try:
        stored = services.file_upload(
            owner=user, purpose=params.purpose, visibility=params.visibility, received=received
        )
    finally:
        received.close()
    return Status(201, selectors.file_out(stored, client=client_context(request)))


@router.get("", response=list[FileOut], summary="Your files, newest first")
@paginate(PagePagination)
def file_list(request: HttpRequest, filters: Query[FileFilter]) -> Any:
    files = selectors.file_list_for_owner(
        owner=require_user(request), purpose=filters.purpose, status=filters.status
    )
    return _RenderedPage(files, request)


@router.post(
    "/uploads",
    response={201: DirectUploadOut},
    summary="Start a direct upload to storage (for large files)",
    description="Declare the file (name, type, exact size, SHA-256); send its bytes with the "
    "returned method, URL and headers; then call `POST /files/{id}/complete`, which verifies "
    "size, type and checksum.",
    throttle=_UPLOAD_LIMIT,
)
@idempotent
def file_direct_upload_start(request: HttpRequest, payload: DirectUploadIn) -> Any:
    started = services.file_direct_upload_start(
        owner=require_user(request),
        purpose=payload.purpose,
        visibility=payload.visibility,
        filename=payload.filename,
        content_type=payload.content_type,
        size=payload.size,
        sha256=payload.sha256,
    )
    url = started.upload.url
    return Status(
        201,
        DirectUploadOut(
            file=selectors.file_out(started.file, client=client_context(request)),
            upload=DirectUploadTargetOut(
                method=started.upload.method,
                url=request.build_absolute_uri(url) if url.startswith("/") else url,
                headers=started.upload.headers,
                expires_at=started.expires_at,
            ),
        ),
    )


@router.get("/{file_id}", response=FileOut, summary="One of your files: metadata and links")
def file_detail(request: HttpRequest, file_id: UUID) -> Any:
    stored = selectors.file_get_for_owner(owner=require_user(request), file_id=file_id)
    return selectors.file_out(stored, client=client_context(request))


@router.post(
    "/{file_id}/complete",
    response=FileOut,
    summary="Finish a direct upload: verify size, type and checksum",
)
def file_complete(request: HttpRequest, file_id: UUID) -> Any:
    stored = services.file_complete(owner=require_user(request), file_id=file_id)
    return selectors.file_out(stored, client=client_context(request))


@router.delete("/{file_id}", response={204: None}, summary="Delete one of your files")
def file_delete(request: HttpRequest, file_id: UUID) -> Any:
    services.file_delete(owner=require_user(request), file_id=file_id)
    return Status(204, None)
