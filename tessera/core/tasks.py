"""Platform background jobs: thin wrappers over core functions."""

from __future__ import annotations

from typing import Any

from celery import shared_task

from tessera.core.analytics import posthog_send
from tessera.core.idempotency import purge_expired
from tessera.core.jobs import TesseraTask


@shared_task(base=TesseraTask, name="core.purge_idempotency_records")
def purge_idempotency_records() -> int:
    return purge_expired()


@shared_task(base=TesseraTask, name="core.posthog_capture", max_retries=5)
def posthog_capture(
    *,
    distinct_id: str,
    event: str,
    properties: dict[str, Any],
    uuid: str = "",
    timestamp: str = "",
) -> bool:
    """Idempotent: PostHog keeps one event per uuid. Retried (with backoff) while PostHog is
    unreachable or answers 5xx/429 (`AnalyticsUnavailableError` is a ConnectionError)."""
    return posthog_send(
        distinct_id=distinct_id,
        event=event,
        properties=properties,
        uuid=uuid,
        timestamp=timestamp,
    )
