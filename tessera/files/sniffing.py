"""What a file is, decided from its bytes: never from the client's Content-Type or its name.

puremagic (pure Python, maintained) reads the signature; images are confirmed by Pillow
later (`images.inspect_image`). Text formats have no signature, so a client can never
upload one: only server-written exports are text, and those are typed by the server.
"""

from __future__ import annotations

import re
from dataclasses import dataclass

HEAD_BYTES = 64 * 1024
TAIL_BYTES = 64 * 1024


@dataclass(frozen=True)
class FileType:
    content_type: str
    extension: str


# The types Tessera stores, keyed by the MIME type puremagic reports (aliases folded in).
KNOWN_TYPES: dict[str, FileType] = {
    "image/jpeg": FileType("image/jpeg", "jpg"),
    "image/png": FileType("image/png", "png"),
    "image/webp": FileType("image/webp", "webp"),
    "image/gif": FileType("image/gif", "gif"),
    "image/svg+xml": FileType("image/svg+xml", "svg"),
    "video/mp4": FileType("video/mp4", "mp4"),
    "video/quicktime": FileType("video/quicktime", "mov"),
    "video/webm": FileType("video/webm", "webm"),
    "audio/mpeg": FileType("audio/mpeg", "mp3"),
    "audio/mp4": FileType("audio/mp4", "m4a"),
    "audio/ogg": FileType("audio/ogg", "ogg"),
    "audio/wav": FileType("audio/wav", "wav"),
    "application/pdf": FileType("application/pdf", "pdf"),
    "application/zip": FileType("application/zip", "zip"),
    "text/csv": FileType("text/csv", "csv"),
    "application/json": FileType("application/json", "json"),
    "text/html": FileType("text/html", "html"),
}
_ALIASES = {
    "audio/x-wav": "audio/wav",
    "audio/wave": "audio/wav",
    "audio/vnd.wave": "audio/wav",
    "audio/x-m4a": "audio/mp4",
    "audio/mp3": "audio/mpeg",
    "video/ogg": "audio/ogg",
    "application/ogg": "audio/ogg",
    "application/x-zip-compressed": "application/zip",
    "application/xhtml+xml": "text/html",
}
# Where several types share a signature (ftyp boxes), prefer the more specific one.
_M4A_BRANDS = (b"M4A ", b"M4B ")


def sniff(head: bytes) -> FileType | None:
    """The type of a file whose first bytes are `head`, or None when it has no known one."""
    if not head:
        return None
    if len(head) >= 12 and head[4:8] == b"ftyp" and head[8:12] in _M4A_BRANDS:
        return KNOWN_TYPES["audio/mp4"]
    if _looks_like_markup(head):
        # SVG and HTML are refused for every purpose; report them as such.
        lowered = head[:4096].lower()
        kind = "image/svg+xml" if b"<svg" in lowered else "text/html"
        return KNOWN_TYPES[kind]
    import puremagic  # here, not at the top: only uploads need it, not every web worker

    try:
        matches = puremagic.magic_string(head)
    except (puremagic.PureError, ValueError):
        return None
    for match in matches:
        mime = _ALIASES.get(match.mime_type, match.mime_type)
        if mime in KNOWN_TYPES:
            return KNOWN_TYPES[mime]
    return None


_MARKUP_START = re.compile(
    rb"^(?:\xef\xbb\xbf)?\s*<(?:\?xml|svg|!doctype|html|head|body|script|!--)", re.IGNORECASE
)


def _looks_like_markup(head: bytes) -> bool:
    return bool(_MARKUP_START.match(head[:1024]))


# Markers of a polyglot: script, markup or another container hidden in an image's header
# or appended after its end. Long enough that compressed pixel data does not hit them by
# chance in the 128 KiB scanned (odds below one in a million per file).
_POLYGLOT_MARKERS = re.compile(
    rb"<script|<html|<!doctype\s+html|<\?php|<svg[\s>/]|<iframe|javascript:|%PDF-|<\?=",
    re.IGNORECASE,
)
_ZIP_END_OF_CENTRAL_DIRECTORY = b"PK\x05\x06"


def polyglot_marker(head: bytes, tail: bytes) -> str | None:
    """The first sign that an image also carries script, markup, a PDF or a ZIP archive."""
    for part in (head, tail):
        found = _POLYGLOT_MARKERS.search(part)
        if found:
            return found.group(0).decode("latin-1")
    if _ZIP_END_OF_CENTRAL_DIRECTORY in tail:
        return "zip archive"
    return None
