"""Product analytics through PostHog, captured by a background task so it never blocks a
request. Without POSTHOG_API_KEY every call is a no-op."""

from __future__ import annotations

from typing import Any

from django.conf import settings

from tessera.core.jobs import enqueue_on_commit


def analytics_capture(
    *, distinct_id: str, event: str, properties: dict[str, Any] | None = None
) -> bool:
    """Queue one event; returns whether anything was queued."""
    if not settings.POSTHOG_API_KEY:
        return False
    from tessera.core.tasks import posthog_capture

    enqueue_on_commit(
        posthog_capture, distinct_id=str(distinct_id), event=event, properties=properties or {}
    )
    return True


def posthog_send(*, distinct_id: str, event: str, properties: dict[str, Any]) -> None:
    """Send one event to PostHog now (called by the task)."""
    from posthog import Posthog

    client = Posthog(
        settings.POSTHOG_API_KEY,
        host=settings.POSTHOG_HOST,
        sync_mode=True,
        disable_geoip=True,
        max_retries=0,
    )
    try:
        client.capture(event, distinct_id=distinct_id, properties=properties)
        client.flush()
    finally:
        client.shutdown()
