from __future__ import annotations

from django.utils.translation import gettext_lazy as _

from tessera.core.errors import ApplicationError


class CacheUnavailableError(ApplicationError):
    status_code = 503
    code = "cache_unavailable"
    default_message = _("The content cache is unreachable; the site is served from the database.")
