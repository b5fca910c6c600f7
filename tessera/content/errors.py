from __future__ import annotations

from django.utils.translation import gettext_lazy as _

from tessera.core.errors import ApplicationError, ErrorCode


class ContentErrorCode(ErrorCode):
    CACHE_UNAVAILABLE = "cache_unavailable"
    INVALID_IMAGE = "invalid_image"
    IMAGE_TOO_LARGE = "image_too_large"
    IMAGE_EMPTY = "image_empty"


class CacheUnavailableError(ApplicationError):
    status_code = 503
    code = ContentErrorCode.CACHE_UNAVAILABLE
    default_message = _("The content cache is unreachable; the site is served from the database.")
