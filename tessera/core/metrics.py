"""Prometheus metrics. Request counts are recorded by RequestContextMiddleware (one
histogram observation, cheaper than django-prometheus's pair of middlewares). Apps export
values read at scrape time through `register_gauge`, and the backlog of their queues through
`backlog_register` (core imports no app)."""

from __future__ import annotations

import hmac
import os
import time
from collections.abc import Callable, Iterable
from dataclasses import dataclass
from datetime import datetime
from typing import Any

import structlog
from celery import signals
from django.conf import settings
from django.db import DatabaseError
from django.http import HttpRequest, HttpResponse
from django.utils import timezone
from django.utils.translation import gettext as _
from django_prometheus.exports import ExportToDjangoView
from prometheus_client import (
    REGISTRY,
    CollectorRegistry,
    Counter,
    Histogram,
    generate_latest,
    start_http_server,
)
from prometheus_client.core import GaugeMetricFamily

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
    response = ExportToDjangoView(request)
    # Scrape-time sources have their own registry: django-prometheus builds a fresh one per
    # scrape in multiprocess mode, and these values are read from shared servers, the same
    # from every process.
    response.content = response.content + generate_latest(_scrape_registry)
    if _multiprocess():
        # That fresh registry holds only the processes' shared files: the collectors apps
        # registered on the default one (webhook backlog, ledger check) read the database
        # at scrape time and would otherwise vanish from /metrics.
        response.content = response.content + generate_latest(_shared_collectors_registry())
    return response


def _multiprocess() -> bool:
    return "PROMETHEUS_MULTIPROC_DIR" in os.environ or "prometheus_multiproc_dir" in os.environ


_shared_registry: CollectorRegistry | None = None


def _shared_collectors_registry() -> CollectorRegistry:
    """The default registry's custom collectors (values read from shared servers), without
    its metric objects (per process: in the shared files) or the process, platform and GC
    collectors (the scraped process's alone)."""
    global _shared_registry  # noqa: PLW0603 - built once, on the first scrape
    if _shared_registry is None:
        from prometheus_client import gc_collector, platform_collector, process_collector
        from prometheus_client.metrics import MetricWrapperBase

        per_process = (
            MetricWrapperBase,
            process_collector.ProcessCollector,
            platform_collector.PlatformCollector,
            gc_collector.GCCollector,
        )
        registry = CollectorRegistry(auto_describe=False)
        for collector in list(REGISTRY._collector_to_names):
            if not isinstance(collector, per_process):
                registry.register(collector)
        _shared_registry = registry
    return _shared_registry


# --- What an operator watches (docs/operations/alerts.md) ------------------------------------
# The platform's own; each product app defines and records its metrics in its `metrics.py`
# (payments: webhook intake and lag; wallet: the ledger check). deploy/prometheus/alerts.yaml
# and the Grafana dashboard use these names, checked by scripts/deploy_checks.py.

TASKS = Counter(
    "tessera_celery_tasks",
    "Celery task outcomes: succeeded, failed (for good), retried, rejected, revoked.",
    ["task", "outcome"],
)
TASK_DURATION = Histogram(
    "tessera_celery_task_duration_seconds",
    "How long a Celery task ran, from prerun to postrun.",
    ["task"],
    buckets=(0.01, 0.05, 0.1, 0.25, 0.5, 1, 2.5, 5, 10, 30, 60, 300),
)
# --- Gauges read at scrape time, registered by the apps that own the data -------------------


@dataclass(frozen=True)
class GaugeSource:
    name: str
    documentation: str
    labels: tuple[str, ...]
    # Returns (label values, value) pairs; raising marks the source failed in this scrape.
    read: Callable[[], Iterable[tuple[tuple[str, ...], float]]]


_gauge_sources: dict[str, GaugeSource] = {}


def register_gauge(
    name: str,
    documentation: str,
    read: Callable[[], Iterable[tuple[tuple[str, ...], float]]],
    *,
    labels: tuple[str, ...] = (),
) -> None:
    """The hook an app uses to export a value it computes when Prometheus scrapes (a backlog's
    age, a sweep's lag). Registering the same name again replaces the reader."""
    _gauge_sources[name] = GaugeSource(name, documentation, labels, read)


def _queue_depths() -> Iterable[tuple[tuple[str, ...], float]]:
    from celery import current_app

    with current_app.connection_for_read() as conn:
        conn.ensure_connection(max_retries=0, timeout=2)
        channel: Any = conn.default_channel
        for queue in settings.METRICS_QUEUES:
            if conn.transport_cls in ("redis", "rediss"):
                depth = channel.client.llen(queue)
            else:
                depth = channel.queue_declare(queue=queue, passive=True).message_count
            yield (queue,), float(depth)


register_gauge(
    "tessera_celery_queue_depth",
    "Messages waiting in each Celery queue, read from the broker.",
    _queue_depths,
    labels=("queue",),
)


class _ScrapeTimeCollector:
    """Reads every registered source at scrape time, each at most every few seconds."""

    def __init__(self) -> None:
        self._cached: dict[str, tuple[float, list[tuple[tuple[str, ...], float]], bool]] = {}

    def describe(self) -> Iterable[Any]:
        return []

    def collect(self) -> Iterable[Any]:
        now = time.monotonic()
        up = GaugeMetricFamily(
            "tessera_metric_source_up",
            "Whether each scrape-time source could be read (1) or failed (0).",
            labels=["source"],
        )
        for source in list(_gauge_sources.values()):
            cached = self._cached.get(source.name)
            if cached is None or now - cached[0] > settings.METRICS_SOURCE_CACHE_SECONDS:
                try:
                    samples, ok = list(source.read()), True
                except Exception:  # noqa: BLE001 - reported as the source being down
                    samples, ok = [], False
                cached = self._cached[source.name] = (now, samples, ok)
            family = GaugeMetricFamily(
                source.name, source.documentation, labels=list(source.labels)
            )
            for label_values, value in cached[1]:
                family.add_metric(list(label_values), value)
            yield family
            up.add_metric([source.name], 1.0 if cached[2] else 0.0)
        yield up


_scrape_collector = _ScrapeTimeCollector()
_scrape_registry = CollectorRegistry(auto_describe=False)
_scrape_registry.register(_scrape_collector)


def scrape_cache_clear() -> None:
    """Forget the values read at the last scrape, so the next one reads every source."""
    _scrape_collector._cached.clear()


# --- Backlogs: work waiting in an app's queue ------------------------------------------------

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


def _backlog_items() -> Iterable[tuple[tuple[str, ...], float]]:
    return [((backlog.queue,), float(backlog.items)) for backlog in backlogs()]


def _backlog_ages() -> Iterable[tuple[tuple[str, ...], float]]:
    now = timezone.now()
    return [
        (
            (backlog.queue,),
            max(0.0, (now - backlog.oldest_at).total_seconds()) if backlog.oldest_at else 0.0,
        )
        for backlog in backlogs()
    ]


register_gauge(
    "tessera_backlog_items",
    "Items waiting in a queue (events to notify, deliveries to send).",
    _backlog_items,
    labels=("queue",),
)
register_gauge(
    "tessera_backlog_oldest_age_seconds",
    "How long the oldest item of a queue has waited (0 when it is empty).",
    _backlog_ages,
    labels=("queue",),
)


def exported_names() -> set[str]:
    """Every sample name the registry can expose, for checking alert rules against."""
    names = set(_gauge_sources) | {"tessera_metric_source_up"}
    for collector in list(REGISTRY._collector_to_names):
        for family in getattr(collector, "describe", list)() or collector.collect():
            names.add(family.name)
            if family.type == "counter":
                names |= {f"{family.name}_total", f"{family.name}_created"}
            elif family.type == "histogram":
                names |= {f"{family.name}_{s}" for s in ("bucket", "count", "sum", "created")}
            elif family.type == "summary":
                names |= {f"{family.name}_{s}" for s in ("count", "sum", "created")}
    return names


# --- Celery signals: task outcomes and durations ---------------------------------------------

_task_started: dict[str, float] = {}


@signals.task_prerun.connect(weak=False)
def _task_prerun(task_id: str, **_: Any) -> None:
    _task_started[task_id] = time.perf_counter()


@signals.task_postrun.connect(weak=False)
def _task_postrun(task_id: str, task: Any, **_: Any) -> None:
    started = _task_started.pop(task_id, None)
    if started is not None:
        TASK_DURATION.labels(task.name).observe(time.perf_counter() - started)


@signals.task_success.connect(weak=False)
def _task_success(sender: Any, **_: Any) -> None:
    TASKS.labels(sender.name, "succeeded").inc()


@signals.task_failure.connect(weak=False)
def _task_failure(sender: Any, **_: Any) -> None:
    TASKS.labels(sender.name, "failed").inc()


@signals.task_retry.connect(weak=False)
def _task_retry(sender: Any, **_: Any) -> None:
    TASKS.labels(sender.name, "retried").inc()


@signals.task_rejected.connect(weak=False)
def _task_rejected(message: Any, **_: Any) -> None:
    name = (getattr(message, "headers", None) or {}).get("task", "unknown")
    TASKS.labels(str(name), "rejected").inc()


@signals.task_revoked.connect(weak=False)
def _task_revoked(sender: Any, **_: Any) -> None:
    TASKS.labels(getattr(sender, "name", "unknown"), "revoked").inc()


@signals.worker_process_init.connect(weak=False)
def _worker_process_init(**_: Any) -> None:
    _task_started.clear()


@signals.worker_ready.connect(weak=False)
def _worker_ready(**_: Any) -> None:
    """A worker's own /metrics when CELERY_METRICS_PORT is set (task outcomes are counted in
    the worker, not in the web processes). With the prefork pool set PROMETHEUS_MULTIPROC_DIR
    so the pool's children share their counts."""
    port = settings.CELERY_METRICS_PORT
    if not port:
        return
    registry = REGISTRY
    if os.environ.get("PROMETHEUS_MULTIPROC_DIR"):
        from prometheus_client import CollectorRegistry, multiprocess

        registry = CollectorRegistry()
        multiprocess.MultiProcessCollector(registry)
    start_http_server(port, addr=settings.CELERY_METRICS_ADDR, registry=registry)
