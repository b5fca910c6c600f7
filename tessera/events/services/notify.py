"""The one place this module tells people things.

`tell` notifies each user (in-app, email, SMS by their preferences, through
`tessera.notifications`) and hands each in-app notification to the push seam (`push.py`).
When notifications gains a batch call for many people, only this function changes.
"""

from __future__ import annotations

from collections.abc import Iterable
from typing import Any
from zoneinfo import ZoneInfo

from django.conf import settings

from tessera.core.jobs import enqueue_on_commit
from tessera.events.models import Event
from tessera.notifications.services import notify


def event_facts(event: Event) -> dict[str, Any]:
    """What every event notification's template may use."""
    local = event.starts_at.astimezone(ZoneInfo(event.timezone))
    return {
        "title": event.title,
        "when": f"{local:%Y-%m-%d %H:%M} ({event.timezone})",
        "place": event.venue.name if event.venue_id and event.venue else event.online_url,
        "link": f"{settings.AUTH_FRONTEND_URL}/events/{event.pk}",
    }


def tell(
    *,
    users: Iterable[Any],
    kind: str,
    event: Event,
    extra: dict[str, Any] | None = None,
    data: dict[str, Any] | None = None,
) -> int:
    from tessera.events.tasks import push_send

    context = {**event_facts(event), **(extra or {})}
    payload = {"eventId": str(event.pk), **(data or {})}
    told = 0
    for user in users:
        deliveries = notify(user=user, kind=kind, context=context, data=payload)
        told += 1
        for delivery in deliveries:
            if delivery.channel == "in_app":
                enqueue_on_commit(
                    push_send,
                    user_id=str(user.pk),
                    kind=kind,
                    title=delivery.subject,
                    body=delivery.body,
                    data=payload,
                )
    return told
