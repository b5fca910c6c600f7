"""Product analytics through PostHog, off unless `POSTHOG_API_KEY` is set.

Services call `analytics_capture` at the moments a team looks at (the events below). The
call only registers an after-commit callback: a rolled-back write sends nothing, and the
request never waits for PostHog. After commit the event is queued for the
`core.posthog_capture` task; if even that fails (the broker is down) the event is logged and
dropped, never the request. The task posts it to PostHog's capture API and retries on
network errors, 5xx and 429 (each event carries a uuid, so PostHog keeps one copy however
many times it is sent); a 4xx is logged and dropped, since resending will not fix it.

Properties describe the event, never the person: no email, phone number, name or address.
The distinct id is the user's id.

The events captured are `AnalyticsEvent`'s, every product's among them (naming a product's
event here imports nothing of it): one list of names in one style, `<object>_<past verb>`,
and `analytics_capture` takes only these, so an ad hoc name is a type error.
"""

from __future__ import annotations

import uuid
from datetime import UTC, datetime
from enum import StrEnum
from typing import Any

import structlog
from django.conf import settings
from django.db import transaction

logger = structlog.get_logger("tessera.analytics")


class AnalyticsEvent(StrEnum):
    USER_SIGNED_UP = "user_signed_up"  # method: email, phone, github, google
    USER_LOGGED_IN = "user_logged_in"  # method: password, phone_signup, phone_login, github…
    CAPSULE_SEALED = "capsule_sealed"  # days_until_unlock, has_media, receiver_has_account
    CAPSULE_OPENED = "capsule_opened"  # days_sealed
    FILE_UPLOADED = "file_uploaded"  # purpose, content_type, size_bytes, direct
    DEPOSIT_COMPLETED = "deposit_completed"  # transaction_id, currency, amount
    WITHDRAWAL_COMPLETED = "withdrawal_completed"  # transaction_id, currency, amount
    EVENT_JOINED = "event_joined"  # event_id, paid
    EVENT_CHECKED_IN = "event_checked_in"  # event_id, offline


class AnalyticsUnavailableError(ConnectionError):
    """PostHog could not take the event now (network, 5xx, 429): the task retries."""


def analytics_capture(
    *, distinct_id: Any, event: AnalyticsEvent, properties: dict[str, Any] | None = None
) -> bool:
    """Queue one event for after the current transaction commits; returns whether anything
    was queued (False without `POSTHOG_API_KEY`). Never raises into the caller."""
    if not settings.POSTHOG_API_KEY:
        return False
    kwargs = {
        "distinct_id": str(distinct_id),
        "event": str(event),
        "properties": dict(properties or {}),
        "uuid": str(uuid.uuid4()),
        "timestamp": datetime.now(tz=UTC).isoformat(),
    }

    def send() -> None:
        from tessera.core.tasks import posthog_capture

        try:
            # No publish retries: a request is not held up for analytics.
            posthog_capture.apply_async(kwargs=kwargs, retry=False)
        except Exception:  # any broker failure drops the event, not the request
            logger.warning(
                "analytics_enqueue_failed", analytics_event=kwargs["event"], exc_info=True
            )

    transaction.on_commit(send, robust=True)
    return True


def posthog_send(
    *,
    distinct_id: str,
    event: str,
    properties: dict[str, Any],
    uuid: str = "",
    timestamp: str = "",
) -> bool:
    """Post one event to PostHog's capture API now (called by the task). True when PostHog
    took it, False when it refused it for good (4xx); raises `AnalyticsUnavailableError`
    when a retry may succeed."""
    import requests
    from posthog.request import APIError, batch_post

    message = {
        "type": "capture",
        "event": event,
        "distinct_id": distinct_id,
        "properties": {**properties, "$lib": "tessera", "$lib_version": settings.TESSERA_VERSION},
        "timestamp": timestamp or datetime.now(tz=UTC).isoformat(),
        "uuid": uuid or None,
    }
    try:
        batch_post(
            settings.POSTHOG_API_KEY,
            host=settings.POSTHOG_HOST,
            batch=[message],
            timeout=settings.POSTHOG_TIMEOUT_SECONDS,
        )
    except APIError as error:
        status = error.status if isinstance(error.status, int) else 0
        if status == 429 or status >= 500 or status == 0:
            raise AnalyticsUnavailableError(f"PostHog answered {error.status}") from error
        logger.warning("analytics_event_refused", analytics_event=event, status=status)
        return False
    except requests.RequestException as error:
        raise AnalyticsUnavailableError(str(error)) from error
    return True
