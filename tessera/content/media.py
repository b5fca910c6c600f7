"""Website images, stored through `tessera.files` as public files of the purpose
`content_image`, owned by the system (not by the editor who uploaded them, so they outlive
that editor's account).

An upload passes the content limits (`CONTENT_IMAGE_MAX_BYTES`, `CONTENT_IMAGE_MAX_PIXELS`)
and then every check of the files module (type sniffed from the bytes, polyglot check,
header-only pixel cap) before anything is stored; the variants (thumbnail 256, medium 1024,
their WebP versions) are made by the files task, and the document is rebuilt when they are
ready (`signals.py`).
"""

from __future__ import annotations

from collections.abc import Iterable
from dataclasses import dataclass
from typing import IO, Any

from django.conf import settings
from django.core.exceptions import ValidationError
from django.template.defaultfilters import filesizeformat
from django.utils.translation import gettext as _
from PIL import Image

from tessera.content.errors import ContentErrorCode
from tessera.core.errors import ApplicationError
from tessera.files.purposes import Purpose, Visibility, policy_for
from tessera.files.schemas import FileRefOut
from tessera.files.selectors import file_ref
from tessera.files.services import file_receive, file_upload

ACCEPTED_TYPES = "image/png,image/jpeg,image/webp"
# Errors Pillow raises on a file it cannot read; the files checks then name the problem.
_UNREADABLE = (OSError, SyntaxError, ValueError, EOFError)


def max_bytes() -> int:
    """The largest image an editor may upload: the content setting, within the purpose's cap."""
    return min(settings.CONTENT_IMAGE_MAX_BYTES, policy_for(Purpose.CONTENT_IMAGE).max_bytes)


def max_pixels() -> int:
    return min(settings.CONTENT_IMAGE_MAX_PIXELS, policy_for(Purpose.CONTENT_IMAGE).max_pixels)


def image_size_check(size: int) -> None:
    if size > max_bytes():
        raise ValidationError(
            _("The image is %(size)s; the largest allowed is %(limit)s.")
            % {"size": filesizeformat(size), "limit": filesizeformat(max_bytes())},
            code=ContentErrorCode.IMAGE_TOO_LARGE,
        )


def image_limits_check(*, size: int, path: str) -> None:
    """The content limits, from the size and the image header only (nothing is decoded).

    A file Pillow cannot read is left to the files checks, which say what it is instead.
    """
    image_size_check(size)
    try:
        with Image.open(path) as image:
            width, height = image.size
    except Image.DecompressionBombError as exc:
        raise ValidationError(
            _("The image has too many pixels."), code=ContentErrorCode.IMAGE_TOO_LARGE
        ) from exc
    except _UNREADABLE:
        return
    if width * height > max_pixels():
        raise ValidationError(
            _("The image is %(width)dx%(height)d pixels; at most %(limit)d pixels are allowed.")
            % {"width": width, "height": height, "limit": max_pixels()},
            code=ContentErrorCode.IMAGE_TOO_LARGE,
        )


def _refusal(error: ApplicationError) -> ValidationError:
    return ValidationError(
        _("This file cannot be used as an image: %(reason)s") % {"reason": error.message},
        code=error.code,
    )


def content_image_store(*, content: IO[bytes], name: str) -> Any:
    """Check and store one image; returns the `StoredFile` (processing until its variants are
    made). Any refusal is a `ValidationError` with the reason, and nothing is stored."""
    try:
        received = file_receive(content=content, name=name)
    except ApplicationError as error:
        raise _refusal(error) from error
    try:
        if received.size == 0:
            raise ValidationError(_("The file is empty."), code=ContentErrorCode.IMAGE_EMPTY)
        image_limits_check(size=received.size, path=received.path)
        return file_upload(
            owner=None,
            purpose=Purpose.CONTENT_IMAGE,
            visibility=Visibility.PUBLIC,
            received=received,
        )
    except ApplicationError as error:
        raise _refusal(error) from error
    finally:
        received.close()


@dataclass(frozen=True)
class ImageLinks:
    """An image as the document and the admin show it."""

    url: str | None
    status: str
    width: int | None
    height: int | None
    variants: dict[str, str]

    @property
    def preview_url(self) -> str | None:
        return self.variants.get("thumbnail") or self.url

    def as_document(self) -> dict[str, Any]:
        return {
            "url": self.url,
            "width": self.width,
            "height": self.height,
            "variants": {
                "thumbnail": self.variants.get("thumbnail"),
                "medium": self.variants.get("medium"),
                "thumbnailWebp": self.variants.get("thumbnail_webp"),
                "mediumWebp": self.variants.get("medium_webp"),
            },
        }


def _links(ref: FileRefOut) -> ImageLinks:
    variants = {
        name: variant.url
        for name in ("thumbnail", "medium", "thumbnail_webp", "medium_webp")
        if (variant := getattr(ref.variants, name)) is not None
    }
    return ImageLinks(
        url=ref.url, status=ref.status, width=ref.width, height=ref.height, variants=variants
    )


def image_links(stored: Any) -> ImageLinks | None:
    """Public links to the image and its variants (none until the file is ready)."""
    ref = file_ref(stored)
    return None if ref is None else _links(ref)


def images_prefetch(files: Iterable[Any]) -> None:
    """Load the variants of every ready file in one query (the others have none yet)."""
    from django.db.models import prefetch_related_objects

    ready = [f for f in files if f is not None and f.status == "ready"]
    prefetch_related_objects(ready, "variants")
