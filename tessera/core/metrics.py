"""Prometheus metrics. Request counts are recorded by RequestContextMiddleware (one
histogram observation, cheaper than django-prometheus's pair of middlewares). Apps report
the backlog of their queues through `backlog_register` (core imports no app)."""

from __future__ import annotations

import hmac
from collections.abc import Callable, Iterable, Iterator
from dataclasses import dataclass
from datetime import datetime
from typing import Any

import structlog
from django.conf import settings
from django.db import DatabaseError
from django.http import HttpRequest, HttpResponse
from django.utils import timezone
from django.utils.translation import gettext as _
from django_prometheus.exports import ExportToDjangoView
from prometheus_client import CollectorRegistry, Histogram, generate_latest
from prometheus_client.core import GaugeMetricFamily

from tessera.core.client_ip import client_ip
from tessera.core.envelope import error_response

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


logger = structlog.get_logger("tessera.metrics")


@dataclass(frozen=True)
class Backlog:
    """Work waiting in one queue: how many items, and since when the oldest has waited."""

    queue: str
    items: int
    oldest_at: datetime | None


BacklogReader = Callable[[], Iterable[Backlog]]
_backlog_readers: dict[str, BacklogReader] = {}


def backlog_register(name: str, reader: BacklogReader) -> None:
    """Report the backlogs `reader` returns on /metrics, read at each scrape (an app calls
    this from its `AppConfig.ready`; registering a name again replaces its reader)."""
    _backlog_readers[name] = reader


def backlogs() -> list[Backlog]:
    """Every registered queue's backlog; a reader that fails (the database away) is left
    out and logged, never fails the scrape."""
    found: list[Backlog] = []
    for name, reader in sorted(_backlog_readers.items()):
        try:
            found.extend(reader())
        except DatabaseError:
            logger.exception("backlog_unreadable", reader=name)
    return found


class _BacklogCollector:
    def describe(self) -> list[GaugeMetricFamily]:
        return list(self._families())

    def collect(self) -> Iterator[GaugeMetricFamily]:
        items, age = self._families()
        now = timezone.now()
        for backlog in backlogs():
            items.add_metric([backlog.queue], backlog.items)
            waited = (now - backlog.oldest_at).total_seconds() if backlog.oldest_at else 0.0
            age.add_metric([backlog.queue], max(0.0, waited))
        yield items
        yield age

    @staticmethod
    def _families() -> tuple[GaugeMetricFamily, GaugeMetricFamily]:
        return (
            GaugeMetricFamily(
                "tessera_backlog_items",
                "Items waiting in a queue (events to notify, deliveries to send).",
                labels=["queue"],
            ),
            GaugeMetricFamily(
                "tessera_backlog_oldest_age_seconds",
                "How long the oldest item of a queue has waited (0 when it is empty).",
                labels=["queue"],
            ),
        )


# Its own registry: django-prometheus builds a fresh one per scrape in multiprocess mode,
# and the backlog is read from the database, the same from every process.
_backlog_registry = CollectorRegistry(auto_describe=True)
_backlog_registry.register(_BacklogCollector())


def metrics_view(request: HttpRequest) -> HttpResponse:
    if not metrics_allowed(request):
        return error_response(
            request,
            status=403,
            code="permission_denied",
            message=_("Metrics are not available to this client."),
        )
    response = ExportToDjangoView(request)
    response.content = response.content + generate_latest(_backlog_registry)
    return response
