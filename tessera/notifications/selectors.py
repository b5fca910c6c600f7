"""Reads: templates in the right language, a user's notifications and preferences."""

from __future__ import annotations

from collections.abc import Iterable
from dataclasses import dataclass
from typing import Any

from django.conf import settings
from django.contrib.auth.base_user import AbstractBaseUser
from django.db.models import QuerySet

from tessera.core.metrics import Backlog
from tessera.notifications.errors import NotificationNotFoundError, TemplateNotFoundError
from tessera.notifications.models import (
    ALL_KINDS,
    Channel,
    Delivery,
    Notification,
    NotificationPreference,
    NotificationTemplate,
)
from tessera.notifications.rendering import language_supported, render_subject, render_text


@dataclass(frozen=True)
class RenderedMessage:
    key: str
    channel: str
    language: str
    subject: str
    body: str


def templates_for_kind(*, key: str, language: str) -> dict[str, NotificationTemplate]:
    """Per channel, the template of `key` in `language`, or in English where it has none."""
    fallback = settings.LANGUAGE_CODE
    chosen: dict[str, NotificationTemplate] = {}
    for template in NotificationTemplate.objects.filter(key=key, language__in={language, fallback}):
        current = chosen.get(template.channel)
        if current is None or template.language == language:
            chosen[template.channel] = template
    return chosen


def template_render(
    *, key: str, channel: str, context: dict[str, Any], language: str | None = None
) -> RenderedMessage:
    """Render the `key` template for `channel` in `language`, falling back to English.

    Public: apps that message someone without an account (a sign-up OTP to a phone number)
    render the text here and pass it to `send_sms` / `send_email`.
    """
    resolved = language_supported(language) or settings.LANGUAGE_CODE
    template = templates_for_kind(key=key, language=resolved).get(channel)
    if template is None:
        raise TemplateNotFoundError(f"No {channel!r} template for {key!r}.")
    return template_render_one(template=template, context=context)


def template_render_one(
    *, template: NotificationTemplate, context: dict[str, Any]
) -> RenderedMessage:
    language = template.language
    subject = ""
    if template.channel != Channel.SMS:
        subject = render_subject(template.subject, context, language=language)
    return RenderedMessage(
        key=template.key,
        channel=template.channel,
        language=language,
        subject=subject,
        body=render_text(template.body, context, language=language).strip(),
    )


def notification_list(
    *, user: AbstractBaseUser, unread: bool | None = None
) -> QuerySet[Notification]:
    """The user's notifications, newest first; `unread` keeps only unread (or only read)."""
    notifications = Notification.objects.filter(user_id=user.pk)
    if unread is not None:
        notifications = notifications.filter(read_at__isnull=unread)
    return notifications.order_by("-created_at", "-id")


def users_notified(*, kind: str, user_ids: Iterable[Any]) -> set[Any]:
    """Of `user_ids`, those who have had a notification of `kind` (for "send once")."""
    return set(
        Notification.objects.filter(kind=kind, user_id__in=list(user_ids)).values_list(
            "user_id", flat=True
        )
    )


def notification_get_for_user(*, user: AbstractBaseUser, notification_id: Any) -> Notification:
    """The notification if it is `user`'s; anyone else's is the same 404 as none."""
    notification = Notification.objects.filter(pk=notification_id, user_id=user.pk).first()
    if notification is None:
        raise NotificationNotFoundError
    return notification


def preference_list(*, user: AbstractBaseUser) -> QuerySet[NotificationPreference]:
    return NotificationPreference.objects.filter(user_id=user.pk).order_by("kind", "channel")


def preference_channels_enabled(
    *, user: AbstractBaseUser, kind: str, channels: list[str]
) -> set[str]:
    """Which of `channels` the user accepts for `kind`: an exact rule beats "*", else on."""
    rules = {
        (rule.kind, rule.channel): rule.enabled
        for rule in NotificationPreference.objects.filter(
            user_id=user.pk, kind__in=[kind, ALL_KINDS], channel__in=channels
        )
    }
    return {
        channel
        for channel in channels
        if rules.get((kind, channel), rules.get((ALL_KINDS, channel), True))
    }


def delivery_backlog() -> list[Backlog]:
    """Queued email and SMS deliveries per channel (retries waiting for their time
    included), and when the oldest was queued: two index reads per channel on
    `delivery_queued_idx` (ids are time-ordered, so the first is the oldest)."""
    found = []
    for channel in (Channel.EMAIL, Channel.SMS):
        queued = Delivery.objects.filter(status=Delivery.Status.QUEUED, channel=channel)
        oldest = queued.order_by("id").values_list("created_at", flat=True).first()
        found.append(
            Backlog(
                queue=f"notification_deliveries_{channel}",
                items=queued.count() if oldest is not None else 0,
                oldest_at=oldest,
            )
        )
    return found
