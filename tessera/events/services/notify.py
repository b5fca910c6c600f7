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
from tessera.notifications.services import NotifyItem, notify_many


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
    """Tell `users` about `kind` for `event` in one batch (`notify_many`: in-app, and email
    or SMS as each person prefers), and hand the in-app messages to the push seam in one
    task. Returns how many people were told (a user deleted meanwhile is not)."""
    from tessera.events.tasks import push_send

    context = {**event_facts(event), **(extra or {})}
    payload = {"eventId": str(event.pk), **(data or {})}
    people = list(users)
    result = notify_many(
        kind=kind, items=[NotifyItem(user=user, context=context, data=payload) for user in people]
    )
    messages = [
        {"user_id": str(note.user_id), "title": note.title, "body": note.body}
        for note in result.notifications
    ]
    if messages:
        enqueue_on_commit(push_send, kind=kind, messages=messages, data=payload)
    return len(people) - result.skipped["no_such_user"]
