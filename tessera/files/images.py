"""Image checks and variants with Pillow.

Uploads are checked from the header only (format, dimensions, the pixel cap), which is cheap
and refuses a decompression bomb before anything decodes it. The background task decodes,
fixes the orientation, drops every piece of metadata (EXIF with GPS, XMP, comments; the ICC
colour profile is kept), re-encodes the original and writes the variants.
"""

from __future__ import annotations

import tempfile
from collections.abc import Iterator
from contextlib import contextmanager
from dataclasses import dataclass
from typing import IO, Any

from django.conf import settings
from django.utils.translation import gettext as _
from PIL import Image, ImageOps, UnidentifiedImageError

from tessera.files.errors import ImageTooLargeError, InvalidImageError, TypeMismatchError
from tessera.files.purposes import MAX_IMAGE_PIXELS, PurposePolicy

PILLOW_FORMATS = {"JPEG": "image/jpeg", "PNG": "image/png", "WEBP": "image/webp"}
THUMBNAIL_BOX = 256
MEDIUM_BOX = 1024
JPEG_QUALITY = 85
ORIGINAL_JPEG_QUALITY = 90
WEBP_QUALITY = 80
# Errors Pillow raises on a truncated, corrupt or hostile image.
_DECODE_ERRORS = (UnidentifiedImageError, OSError, SyntaxError, ValueError, EOFError)


def install_decompression_bomb_guard() -> None:
    """Pillow's own guard, at the largest pixel cap of any purpose (each purpose's own cap is
    checked on top). Past the cap Pillow warns, past twice the cap it raises; both refuse."""
    Image.MAX_IMAGE_PIXELS = MAX_IMAGE_PIXELS


@dataclass(frozen=True)
class ImageHeader:
    content_type: str
    width: int
    height: int


@contextmanager
def _open(path: str) -> Iterator[Image.Image]:
    # Between Pillow's cap and twice it Pillow only warns; every purpose's own cap is at or
    # below Pillow's, so `_check_pixels` refuses those right after opening.
    try:
        with Image.open(path) as image:
            yield image
    except Image.DecompressionBombError as exc:
        raise ImageTooLargeError from exc
    except _DECODE_ERRORS as exc:
        raise InvalidImageError from exc


def _check_pixels(width: int, height: int, policy: PurposePolicy) -> None:
    if width * height > policy.max_pixels:
        raise ImageTooLargeError(
            _("The image is %(width)dx%(height)d; this purpose allows %(limit)d pixels at most.")
            % {"width": width, "height": height, "limit": policy.max_pixels},
            extra={"maxPixels": policy.max_pixels},
        )


def image_inspect(path: str, *, content_type: str, policy: PurposePolicy) -> ImageHeader:
    """Read the header only: the format must match the sniffed type, the size the cap."""
    with _open(path) as image:
        detected = PILLOW_FORMATS.get(image.format or "")
        if detected is None:
            raise InvalidImageError
        if detected != content_type:
            raise TypeMismatchError
        width, height = image.size
        _check_pixels(width, height, policy)
        if detected == "image/png":
            # Walks every chunk and checks its CRC without decoding pixels.
            try:
                image.verify()
            except _DECODE_ERRORS as exc:
                raise InvalidImageError from exc
        return ImageHeader(content_type=detected, width=width, height=height)


@dataclass
class Rendition:
    name: str
    content_type: str
    width: int
    height: int
    data: IO[bytes]
    size: int


@dataclass
class ProcessedImage:
    original: Rendition
    variants: list[Rendition]

    def close(self) -> None:
        for rendition in [self.original, *self.variants]:
            rendition.data.close()


def _fit(image: Image.Image, box: int) -> Image.Image:
    width, height = image.size
    scale = min(1.0, box / max(width, height))
    size = (max(1, round(width * scale)), max(1, round(height * scale)))
    if size == image.size:
        return image.copy()
    # reducing_gap: shrink by whole factors first (box averaging), then Lanczos: ~3x faster
    # on a 12 MP photo than a plain Lanczos resize, indistinguishable at these sizes.
    return image.resize(size, Image.Resampling.LANCZOS, reducing_gap=2.0)


def _encode(image: Image.Image, name: str, fmt: str, **options: Any) -> Rendition:
    spool = tempfile.SpooledTemporaryFile(  # noqa: SIM115 - closed by ProcessedImage.close
        max_size=4 * 1024 * 1024, dir=settings.FILE_UPLOAD_TEMP_DIR
    )
    image.save(spool, format=fmt, **options)
    size = spool.tell()
    spool.seek(0)
    content_type = {"JPEG": "image/jpeg", "PNG": "image/png", "WEBP": "image/webp"}[fmt]
    return Rendition(name, content_type, image.width, image.height, spool, size)


def image_process(path: str, *, policy: PurposePolicy) -> ProcessedImage:
    """Decode, orient, strip and re-encode the original; render the four variants."""
    try:
        return _process(path, policy)
    except _DECODE_ERRORS as exc:
        raise InvalidImageError from exc


def _process(path: str, policy: PurposePolicy) -> ProcessedImage:
    with _open(path) as source:
        source_format = source.format or ""
        if source_format not in PILLOW_FORMATS:
            raise InvalidImageError
        _check_pixels(*source.size, policy)
        source.load()
        oriented = ImageOps.exif_transpose(source)
    icc_profile = oriented.info.get("icc_profile")
    has_alpha = oriented.mode in {"RGBA", "LA", "PA"} or (
        oriented.mode == "P" and "transparency" in oriented.info
    )
    mode = "RGBA" if has_alpha and source_format != "JPEG" else "RGB"
    clean = oriented if oriented.mode == mode else oriented.convert(mode)
    # Nothing from the source's metadata survives: EXIF (GPS, camera, orientation), XMP,
    # comments, text chunks. Only the colour profile is passed back explicitly.
    clean.info = {}
    colour = {"icc_profile": icc_profile} if icc_profile else {}

    if source_format == "JPEG":
        original = _encode(clean, "original", "JPEG", quality=ORIGINAL_JPEG_QUALITY, **colour)
    elif source_format == "PNG":
        original = _encode(clean, "original", "PNG", compress_level=6, **colour)
    else:
        original = _encode(clean, "original", "WEBP", quality=ORIGINAL_JPEG_QUALITY, **colour)

    medium = _fit(clean, MEDIUM_BOX)
    thumbnail = _fit(medium, THUMBNAIL_BOX)
    flat_format, flat_options = (
        ("PNG", {"compress_level": 6}) if mode == "RGBA" else ("JPEG", {"quality": JPEG_QUALITY})
    )
    variants = [
        _encode(thumbnail, "thumbnail", flat_format, **flat_options, **colour),
        _encode(medium, "medium", flat_format, **flat_options, **colour),
        _encode(thumbnail, "thumbnail_webp", "WEBP", quality=WEBP_QUALITY, **colour),
        _encode(medium, "medium_webp", "WEBP", quality=WEBP_QUALITY, **colour),
    ]
    return ProcessedImage(original=original, variants=variants)
