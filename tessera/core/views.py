"""Plain Django views of the platform: health, the API's root, and error pages that answer
in the envelope under /api/."""

from __future__ import annotations

from typing import Any

from django.conf import settings
from django.http import HttpRequest, HttpResponse, JsonResponse
from django.utils.translation import gettext as _
from django.views import defaults
from django.views.decorators.http import require_safe

from tessera.core.api.handlers import render_error
from tessera.core.envelope import JSON_CONTENT_TYPE, dumps, success_payload
from tessera.core.errors import InternalError, NotFoundError
from tessera.core.health import readiness
from tessera.core.middleware import is_api_path

_LIVE = dumps({"status": "ok"})


@require_safe
def health_live(request: HttpRequest) -> HttpResponse:
    return HttpResponse(_LIVE, content_type=JSON_CONTENT_TYPE)


@require_safe
def health_ready(request: HttpRequest) -> HttpResponse:
    ready, checks = readiness()
    body = {"status": "ok" if ready else "unavailable", "checks": checks}
    return HttpResponse(dumps(body), status=200 if ready else 503, content_type=JSON_CONTENT_TYPE)


@require_safe
def root(request: HttpRequest) -> JsonResponse:
    data: dict[str, Any] = {
        "name": "Tessera",
        "version": settings.TESSERA_VERSION,
        "links": {
            "docs": "/api/docs",
            "openapi": "/api/openapi.json",
            "health": "/health/",
            "ready": "/health/ready",
            "admin": "/admin/",
            "websiteData": "/api/website-data/",
        },
    }
    return JsonResponse(success_payload(data))


def not_found(request: HttpRequest, exception: Exception | None = None) -> HttpResponse:
    if is_api_path(request.path_info):
        return render_error(request, NotFoundError(_("No API route matches this path.")))
    return defaults.page_not_found(request, exception or Exception("Not found"))


def server_error(request: HttpRequest) -> HttpResponse:
    if is_api_path(request.path_info):
        return render_error(request, InternalError())
    return defaults.server_error(request)
