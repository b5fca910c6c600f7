"""The check of the old `ImageField` images, kept because migrations 0001 and 0002 name it.

Images are now stored files of `tessera.files`; uploads are checked by `media.py`.
"""

from __future__ import annotations

from typing import Any

from django.conf import settings
from django.core.exceptions import ValidationError
from django.utils.translation import gettext as _
from PIL import Image, UnidentifiedImageError

from tessera.content.errors import ContentErrorCode

ALLOWED_IMAGE_FORMATS = frozenset({"PNG", "JPEG", "GIF", "WEBP"})


def validate_content_image(value: Any) -> None:
    """Refuse a file that is not a PNG/JPEG/GIF/WebP image or is larger than the limit."""
    limit = settings.CONTENT_IMAGE_MAX_BYTES
    size = getattr(value, "size", 0) or 0
    if size > limit:
        raise ValidationError(
            _("The image is larger than %(limit)s MB.") % {"limit": limit // (1024 * 1024)},
            code=ContentErrorCode.IMAGE_TOO_LARGE,
        )
    if getattr(value, "_committed", True):  # already stored, validated when uploaded
        return
    try:
        value.seek(0)
        with Image.open(value) as image:
            image_format = image.format
            width, height = image.size
            image.verify()
    except (
        UnidentifiedImageError,
        OSError,
        SyntaxError,
        ValueError,
        Image.DecompressionBombError,
    ) as exc:
        raise ValidationError(
            _("Upload a valid image."), code=ContentErrorCode.INVALID_IMAGE
        ) from exc
    finally:
        value.seek(0)
    if image_format not in ALLOWED_IMAGE_FORMATS:
        raise ValidationError(
            _("Upload a PNG, JPEG, GIF or WebP image."), code=ContentErrorCode.INVALID_IMAGE
        )
    if width * height > settings.CONTENT_IMAGE_MAX_PIXELS:
        raise ValidationError(
            _("The image has too many pixels."), code=ContentErrorCode.IMAGE_TOO_LARGE
        )
