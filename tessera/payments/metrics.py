"""Prometheus metrics of the payments module.

Counters and the lag histogram are recorded by the process doing the work (web for intake,
worker for processing); with several processes set PROMETHEUS_MULTIPROC_DIR as the README
says. The backlog gauges are read from the database at scrape time, so any web process
reports the same figures.
"""

from __future__ import annotations

from collections.abc import Iterator
from typing import Any

from prometheus_client import REGISTRY, Counter, Histogram
from prometheus_client.core import GaugeMetricFamily
from prometheus_client.registry import Collector

WEBHOOKS_RECEIVED = Counter(
    "tessera_payments_webhooks_received_total",
    "Webhook deliveries received, by provider and verdict (valid, duplicate, missing, "
    "invalid, malformed, stale).",
    ["provider", "verdict"],
)
WEBHOOK_PROCESSING_LAG = Histogram(
    "tessera_payments_webhook_processing_lag_seconds",
    "From a webhook's arrival to the commit of its processing.",
    ["provider"],
    buckets=(0.05, 0.1, 0.25, 0.5, 1, 2.5, 5, 10, 30, 60, 300, 900, 3600),
)
WEBHOOK_FAILURES = Counter(
    "tessera_payments_webhook_failures_total",
    "Failed webhook processing attempts; `dead` counts those dead-lettered.",
    ["provider", "dead"],
)


def webhook_received(provider: str, verdict: str) -> None:
    WEBHOOKS_RECEIVED.labels(provider, verdict).inc()


def webhook_processed(provider: str, lag_seconds: float) -> None:
    WEBHOOK_PROCESSING_LAG.labels(provider).observe(max(0.0, lag_seconds))


def webhook_failed(provider: str, *, dead: bool) -> None:
    WEBHOOK_FAILURES.labels(provider, "true" if dead else "false").inc()


class BacklogCollector(Collector):
    """Deliveries waiting and dead-lettered, and the age of the oldest waiting one."""

    def collect(self) -> Iterator[Any]:
        from django.db.models import Count, Min
        from django.utils import timezone

        from tessera.payments.models import DeliveryState, WebhookDelivery

        waiting = GaugeMetricFamily(
            "tessera_payments_webhooks_backlog",
            "Webhook deliveries by state among received (to process) and failed (dead letters).",
            labels=["state"],
        )
        oldest = GaugeMetricFamily(
            "tessera_payments_webhook_oldest_waiting_seconds",
            "Age of the oldest webhook delivery still waiting to be processed (0: none).",
        )
        try:
            rows = (
                WebhookDelivery.objects.filter(
                    state__in=[DeliveryState.RECEIVED, DeliveryState.FAILED]
                )
                .values("state")
                .annotate(n=Count("id"), first=Min("created_at"))
            )
            by_state: dict[str, dict[str, Any]] = {row["state"]: dict(row) for row in rows}
        except Exception:  # noqa: BLE001 - a scrape must never fail for this
            return
        for state in (DeliveryState.RECEIVED, DeliveryState.FAILED):
            waiting.add_metric([str(state)], by_state.get(state, {}).get("n", 0))
        first = by_state.get(DeliveryState.RECEIVED, {}).get("first")
        oldest.add_metric([], (timezone.now() - first).total_seconds() if first else 0.0)
        yield waiting
        yield oldest

    def describe(self) -> Iterator[Any]:
        # The names without values, so the registry (and the alert rules' check) knows them
        # without a database query.
        yield GaugeMetricFamily("tessera_payments_webhooks_backlog", "", labels=["state"])
        yield GaugeMetricFamily("tessera_payments_webhook_oldest_waiting_seconds", "")


_collector = BacklogCollector()
REGISTRY.register(_collector)
