"""Prometheus metrics. Request counts are recorded by RequestContextMiddleware (one
histogram observation, cheaper than django-prometheus's pair of middlewares)."""

from __future__ import annotations

import hmac

from django.conf import settings
from django.http import HttpRequest, HttpResponse
from django.utils.translation import gettext as _
from django_prometheus.exports import ExportToDjangoView
from prometheus_client import Histogram

from tessera.core.client_ip import client_ip
from tessera.core.envelope import error_response

REQUEST_DURATION = Histogram(
    "tessera_http_request_duration_seconds",
    "HTTP request duration by method and status class.",
    ["method", "status"],
    buckets=(0.005, 0.01, 0.025, 0.05, 0.1, 0.25, 0.5, 1, 2.5, 5),
)


def observe_request(method: str, status: int, seconds: float) -> None:
    REQUEST_DURATION.labels(method, f"{status // 100}xx").observe(seconds)


def metrics_allowed(request: HttpRequest) -> bool:
    if not settings.METRICS_ENABLED:
        return False
    token = settings.METRICS_TOKEN
    header = request.META.get("HTTP_AUTHORIZATION", "")
    if token and hmac.compare_digest(header, f"Bearer {token}"):
        return True
    return client_ip(request) in settings.METRICS_ALLOWED_IPS


def metrics_view(request: HttpRequest) -> HttpResponse:
    if not metrics_allowed(request):
        return error_response(
            request,
            status=403,
            code="permission_denied",
            message=_("Metrics are not available to this client."),
        )
    return ExportToDjangoView(request)
