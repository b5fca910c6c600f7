"""Plain Django views for the local store: public media, private links, direct uploads.

With S3 none of these is used: public files are plain bucket (or CDN) URLs, private ones
presigned GETs, direct uploads presigned PUTs.
"""

from __future__ import annotations

from django.conf import settings
from django.core import signing
from django.core.exceptions import SuspiciousFileOperation
from django.http import FileResponse, HttpRequest, HttpResponse, HttpResponseBase
from django.utils.http import content_disposition_header
from django.views.decorators.csrf import csrf_exempt
from django.views.decorators.http import require_http_methods, require_safe

from tessera.core.api.handlers import renders_errors
from tessera.core.errors import NotFoundError
from tessera.files import selectors, services
from tessera.files.errors import LinkInvalidError
from tessera.files.storage import (
    PRIVATE_LINK_SALT,
    UPLOAD_LINK_SALT,
    LocalFileStore,
    file_store,
)
from tessera.files.uploads import receive_raw_body

# Served files never run as a page: no scripts, no plug-ins, no framing, no sniffing.
_FILE_CSP = (
    "default-src 'none'; img-src 'self'; media-src 'self'; style-src 'unsafe-inline'; sandbox"
)


def _local_store() -> LocalFileStore:
    store = file_store()
    if not isinstance(store, LocalFileStore):
        raise NotFoundError
    return store


def _file_response(
    store: LocalFileStore,
    key: str,
    *,
    content_type: str,
    cache_control: str,
    filename: str | None = None,
    attachment: bool = False,
) -> FileResponse:
    try:
        path = store.local_path(key)
    except SuspiciousFileOperation as exc:
        raise NotFoundError from exc
    if path is None or not path.is_file():
        raise NotFoundError
    response = FileResponse(
        path.open("rb"),
        content_type=content_type,
        as_attachment=attachment,
        filename=filename or "",
    )
    inline_name = (
        content_disposition_header(as_attachment=False, filename=filename)
        if filename and not attachment
        else None
    )
    if inline_name:
        # FileResponse only names attachments; name inline files too, for "save as".
        response["Content-Disposition"] = inline_name
    response["Cache-Control"] = cache_control
    response["X-Content-Type-Options"] = "nosniff"
    response["Content-Security-Policy"] = _FILE_CSP
    response["Cross-Origin-Resource-Policy"] = "cross-origin"
    return response


@require_safe
@renders_errors
def public_file(request: HttpRequest, key: str) -> HttpResponseBase:
    """A ready public file or variant of the local store (MEDIA_URL + key)."""
    store = _local_store()
    if not key.startswith("public/"):
        raise NotFoundError
    content_type = selectors.public_object_content_type(key=key)
    if content_type is None:
        raise NotFoundError
    return _file_response(
        store, key, content_type=content_type, cache_control="public, max-age=86400"
    )


@require_safe
@renders_errors
def private_file(request: HttpRequest, token: str) -> HttpResponseBase:
    """A private file through a signed link that the owner's API reply handed out."""
    store = _local_store()
    ttl = settings.FILES_PRIVATE_URL_TTL_SECONDS
    try:
        claims = signing.loads(token, salt=PRIVATE_LINK_SALT, max_age=ttl)
    except signing.BadSignature as exc:
        raise LinkInvalidError from exc
    key = str(claims["k"])
    if not key.startswith("private/"):
        raise NotFoundError
    return _file_response(
        store,
        key,
        content_type=str(claims["t"]),
        cache_control=f"private, max-age={ttl}",
        filename=str(claims["n"]),
        attachment=bool(claims["a"]),
    )


@csrf_exempt
@require_http_methods(["PUT"])
@renders_errors
def direct_upload(request: HttpRequest, token: str) -> HttpResponseBase:
    """The local store's presigned PUT: the body is the file, Content-Type as declared."""
    _local_store()
    try:
        claims = signing.loads(
            token, salt=UPLOAD_LINK_SALT, max_age=settings.FILES_UPLOAD_URL_TTL_SECONDS
        )
    except signing.BadSignature as exc:
        raise LinkInvalidError from exc
    stored = selectors.file_get_pending_upload(file_id=claims["f"])
    received = receive_raw_body(request, max_bytes=stored.size, name=stored.original_name)
    try:
        services.file_direct_upload_receive(
            file_id=stored.pk, received=received, content_type=request.content_type or ""
        )
    finally:
        received.close()
    response = HttpResponse(status=200)
    response["ETag"] = f'"{received.sha256}"'
    return response
