"""Prometheus metrics. Request counts are recorded by RequestContextMiddleware (one
histogram observation, cheaper than django-prometheus's pair of middlewares)."""

from __future__ import annotations

import hmac
from typing import Any

from django.conf import settings
from django.http import HttpRequest, HttpResponse
from django.utils.translation import gettext as _
from django_prometheus.exports import ExportToDjangoView
from prometheus_client import Histogram

from tessera.core.api.handlers import renders_errors
from tessera.core.client_ip import client_ip
from tessera.core.errors import PermissionDeniedError

REQUEST_DURATION = Histogram(
    "tessera_http_request_duration_seconds",
    "HTTP request duration by method and status class.",
    ["method", "status"],
    buckets=(0.005, 0.01, 0.025, 0.05, 0.1, 0.25, 0.5, 1, 2.5, 5),
)


# The method is client input: any other word is counted as OTHER, so that a client cannot
# grow the registry one label at a time.
_METHODS = frozenset({"GET", "HEAD", "POST", "PUT", "PATCH", "DELETE", "OPTIONS"})
# `labels()` takes a lock and builds a key on every call; the children it returns never
# change, so each (method, status class) is looked up once.
_request_children: dict[tuple[str, int], Any] = {}


def observe_request(method: str, status: int, seconds: float) -> None:
    key = (method if method in _METHODS else "OTHER", status // 100)
    child = _request_children.get(key)
    if child is None:
        child = _request_children[key] = REQUEST_DURATION.labels(key[0], f"{key[1]}xx")
    child.observe(seconds)


def metrics_allowed(request: HttpRequest) -> bool:
    if not settings.METRICS_ENABLED:
        return False
    token = settings.METRICS_TOKEN
    header = request.META.get("HTTP_AUTHORIZATION", "")
    if token and hmac.compare_digest(header, f"Bearer {token}"):
        return True
    return client_ip(request) in settings.METRICS_ALLOWED_IPS


@renders_errors
def metrics_view(request: HttpRequest) -> HttpResponse:
    if not metrics_allowed(request):
        raise PermissionDeniedError(_("Metrics are not available to this client."))
    return ExportToDjangoView(request)
