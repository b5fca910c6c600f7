"""Receiving upload bodies without holding them in memory.

The multipart body is parsed by Django's own parser with one upload handler that writes the
`file` part to a temporary file in chunks, hashing it (SHA-256) and keeping its first and last
64 KiB for type sniffing and the polyglot check as it goes. A Content-Length over the
purpose's limit is refused with 413 before a byte is read; a body that grows past it anyway
stops the upload at that chunk. Nothing reaches storage until the file has been checked.
"""

from __future__ import annotations

import hashlib
from dataclasses import dataclass
from typing import Any

from django.core.exceptions import RequestDataTooBig, SuspiciousOperation
from django.core.files.uploadedfile import TemporaryUploadedFile
from django.core.files.uploadhandler import FileUploadHandler, SkipFile, StopUpload
from django.http import HttpRequest
from django.http.multipartparser import MultiPartParser, MultiPartParserError
from django.utils.translation import gettext as _

from tessera.files.errors import (
    EmptyFileError,
    FileMissingError,
    FileTooLargeError,
    InvalidFileNameError,
    MalformedUploadError,
    NotMultipartError,
)
from tessera.files.names import file_name_clean, multipart_name_check
from tessera.files.sniffing import HEAD_BYTES, TAIL_BYTES

FILE_FIELD = "file"
# Room for the multipart boundaries and part headers around the file itself.
MULTIPART_OVERHEAD = 64 * 1024
READ_CHUNK = 256 * 1024


@dataclass
class ReceivedFile:
    """An upload on local disk, with what was learnt while it streamed in."""

    file: TemporaryUploadedFile
    name: str
    size: int
    sha256: str
    head: bytes
    tail: bytes

    @property
    def path(self) -> str:
        return str(self.file.temporary_file_path())

    def close(self) -> None:
        # Deletes the temporary file (unless storage has already moved it away).
        self.file.close()


class StreamAccumulator:
    """Writes a stream to a temporary file, hashing it and keeping its head and tail."""

    def __init__(self, name: str) -> None:
        self.name = name
        self.temp = TemporaryUploadedFile(name, "application/octet-stream", 0, None)
        self.hasher = hashlib.sha256()
        self.size = 0
        self.head = bytearray()
        self.tail = b""

    def write(self, chunk: bytes) -> None:
        self.size += len(chunk)
        self.hasher.update(chunk)
        if len(self.head) < HEAD_BYTES:
            self.head += chunk[: HEAD_BYTES - len(self.head)]
        self.tail = (self.tail + chunk[-TAIL_BYTES:])[-TAIL_BYTES:]
        self.temp.write(chunk)

    def finish(self) -> ReceivedFile:
        self.temp.flush()
        self.temp.seek(0)
        self.temp.size = self.size
        return ReceivedFile(
            file=self.temp,
            name=self.name,
            size=self.size,
            sha256=self.hasher.hexdigest(),
            head=bytes(self.head),
            tail=self.tail,
        )

    def discard(self) -> None:
        self.temp.close()


class HashingUploadHandler(FileUploadHandler):
    """Streams the one `file` part to a temporary file; skips any other file part.

    The open file is kept in `_current`, not `file`: Django's parser closes a handler's
    `file` attribute whenever any part is skipped, which would delete a finished upload.
    """

    chunk_size = READ_CHUNK

    def __init__(self, request: HttpRequest, *, max_bytes: int) -> None:
        super().__init__(request)
        self.max_bytes = max_bytes
        self.too_large = False
        self.received: ReceivedFile | None = None
        self._current: StreamAccumulator | None = None

    def new_file(self, field_name: str, file_name: str, *args: Any, **kwargs: Any) -> None:
        if field_name != FILE_FIELD or self.received is not None or self._current is not None:
            raise SkipFile
        super().new_file(field_name, file_name, *args, **kwargs)
        self._current = StreamAccumulator(file_name_clean(file_name))

    def receive_data_chunk(self, raw_data: bytes, start: int) -> bytes | None:
        if self._current is None:
            return None
        if self._current.size + len(raw_data) > self.max_bytes:
            self.too_large = True
            self._current.discard()
            self._current = None
            raise StopUpload(connection_reset=False)
        self._current.write(raw_data)
        return None

    def file_complete(self, file_size: int) -> Any:
        if self._current is None:
            return None
        self.received = self._current.finish()
        self._current = None
        return self.received.file

    def upload_interrupted(self) -> None:
        self.discard()

    def discard(self) -> None:
        if self._current is not None:
            self._current.discard()
            self._current = None
        if self.received is not None:
            self.received.close()
            self.received = None


class StrictMultiPartParser(MultiPartParser):
    """Django's parser, but a file name with path parts or control characters is refused
    instead of being quietly cut down."""

    def sanitize_file_name(self, file_name: str) -> str | None:
        multipart_name_check(file_name)
        return super().sanitize_file_name(file_name)


def _content_length(request: HttpRequest) -> int:
    try:
        length = int(request.META.get("CONTENT_LENGTH") or 0)
    except ValueError as exc:
        raise MalformedUploadError(_("The Content-Length header is not a number.")) from exc
    if length < 0:
        raise MalformedUploadError(_("The Content-Length header is not a number."))
    return length


def _too_large(max_bytes: int) -> FileTooLargeError:
    return FileTooLargeError(
        _("The file is larger than %(limit)d bytes, the most this purpose allows.")
        % {"limit": max_bytes},
        extra={"maxBytes": max_bytes},
    )


def receive_multipart(request: HttpRequest, *, max_bytes: int) -> ReceivedFile:
    """The `file` part of a multipart request, on disk. Raises a files error on bad input."""
    if not (request.META.get("CONTENT_TYPE") or "").lower().startswith("multipart/form-data"):
        raise NotMultipartError
    length = _content_length(request)
    if length > max_bytes + MULTIPART_OVERHEAD:
        raise _too_large(max_bytes)
    if length == 0:
        raise FileMissingError
    handler = HashingUploadHandler(request, max_bytes=max_bytes)
    try:
        parser = StrictMultiPartParser(request.META, request, [handler], request.encoding)
        parser.parse()
    except InvalidFileNameError:
        handler.discard()
        raise
    except RequestDataTooBig as exc:
        handler.discard()
        raise MalformedUploadError(
            _("The form fields besides the file are too large."), status_code=413
        ) from exc
    except (MultiPartParserError, SuspiciousOperation, ValueError) as exc:
        handler.discard()
        raise MalformedUploadError from exc
    except OSError as exc:
        handler.discard()
        raise MalformedUploadError(_("The upload was interrupted.")) from exc
    if handler.too_large:
        handler.discard()
        raise _too_large(max_bytes)
    received = handler.received
    if received is None:
        raise FileMissingError
    if received.size == 0:
        received.close()
        raise EmptyFileError
    return received


def receive_raw_body(request: HttpRequest, *, max_bytes: int, name: str) -> ReceivedFile:
    """A raw request body (a direct upload's PUT), on disk."""
    length = _content_length(request)
    if length > max_bytes:
        raise _too_large(max_bytes)
    if length == 0:
        raise EmptyFileError
    accumulator = StreamAccumulator(name)
    try:
        remaining = length
        while remaining > 0:
            chunk = request.read(min(READ_CHUNK, remaining))
            if not chunk:
                break
            remaining -= len(chunk)
            accumulator.write(chunk)
    except OSError as exc:
        accumulator.discard()
        raise MalformedUploadError(_("The upload was interrupted.")) from exc
    if accumulator.size != length:
        accumulator.discard()
        raise MalformedUploadError(_("The body was shorter than its Content-Length."))
    return accumulator.finish()
