"""Writes, and the entry points other apps call: `notify`, `send_sms`, `send_email`."""

from __future__ import annotations

from collections.abc import Iterable
from dataclasses import dataclass
from typing import Any

import structlog
from django.contrib.auth import get_user_model
from django.core.exceptions import ValidationError
from django.core.validators import validate_email
from django.db import transaction
from django.utils import timezone
from django.utils.translation import gettext

from tessera.core.errors import InvalidInputError
from tessera.core.jobs import enqueue_on_commit
from tessera.notifications.errors import (
    DuplicatePreferenceError,
    InvalidRecipientError,
    NotificationsErrorCode,
    TemplateNotFoundError,
)
from tessera.notifications.models import (
    Channel,
    Delivery,
    Notification,
    NotificationPreference,
)
from tessera.notifications.rendering import language_resolve
from tessera.notifications.selectors import (
    RenderedMessage,
    notification_get_for_user,
    preference_channels_enabled,
    template_render_one,
    templates_for_kind,
)
from tessera.notifications.sms import is_e164
from tessera.notifications.tasks import send_delivery

logger = structlog.get_logger("tessera.notifications")

# In-app first, so that the email and SMS deliveries can point at the notification.
CHANNEL_ORDER = (Channel.IN_APP, Channel.EMAIL, Channel.SMS)


def _user_address(user: Any, channel: str) -> str:
    if channel == Channel.EMAIL:
        return str(user.email or "")
    if channel == Channel.SMS:
        return str(user.phone_number or "")
    return str(user.pk)


def _channels_wanted(kind: str, channels: Iterable[str] | None, available: set[str]) -> list[str]:
    if channels is None:
        if not available:
            raise TemplateNotFoundError(f"No notification template has the key {kind!r}.")
        return [channel for channel in CHANNEL_ORDER if channel in available]
    requested = list(dict.fromkeys(channels))
    unknown = [channel for channel in requested if channel not in Channel.values]
    if unknown:
        raise InvalidInputError(
            f"Unknown notification channel(s): {', '.join(map(repr, unknown))}.",
            code=NotificationsErrorCode.INVALID_CHANNEL,
        )
    missing = [channel for channel in requested if channel not in available]
    if missing:
        raise TemplateNotFoundError(f"No {', '.join(map(repr, missing))} template for {kind!r}.")
    return [channel for channel in CHANNEL_ORDER if channel in requested]


def _queue(
    *,
    channel: str,
    recipient: str,
    rendered: RenderedMessage | None = None,
    subject: str = "",
    body: str = "",
    kind: str = "",
    language: str = "",
    critical: bool,
    user: Any = None,
    notification: Notification | None = None,
) -> Delivery:
    if rendered is not None:
        subject, body, kind, language = (
            rendered.subject,
            rendered.body,
            rendered.key,
            rendered.language,
        )
    delivery = Delivery.objects.create(
        user=user,
        notification=notification,
        kind=kind,
        channel=channel,
        language=language,
        recipient=recipient,
        subject=subject[:255],
        body=body,
        critical=critical,
    )
    enqueue_on_commit(send_delivery, delivery_id=str(delivery.pk))
    return delivery


def notify(
    *,
    user: Any,
    kind: str,
    context: dict[str, Any] | None = None,
    channels: Iterable[str] | None = None,
    language: str | None = None,
    critical: bool = False,
    data: dict[str, Any] | None = None,
) -> list[Delivery]:
    """Tell `user` about `kind`, on every channel it has a template for (or on `channels`).

    Templates render with `context` in `language` (else the user's language, else English,
    falling back to English per channel). The user's preferences decide which channels go
    out unless `critical` (OTP codes, security alerts). `data` rides along on the in-app
    notification for the client (ids for a deep link). Email and SMS are queued and sent
    after the surrounding transaction commits; in-app is stored at once. Returns one
    delivery per channel used; a channel the user has no address for is skipped.
    """
    resolved = language_resolve(requested=language, user=user)
    templates = templates_for_kind(key=kind, language=resolved)
    wanted = _channels_wanted(kind, channels, set(templates))
    if not critical:
        enabled = preference_channels_enabled(user=user, kind=kind, channels=wanted)
        wanted = [channel for channel in wanted if channel in enabled]
    rendered = {
        channel: template_render_one(template=templates[channel], context=context or {})
        for channel in wanted
    }

    deliveries: list[Delivery] = []
    with transaction.atomic():
        notification: Notification | None = None
        for channel in wanted:
            message = rendered[channel]
            if channel == Channel.IN_APP:
                notification = Notification.objects.create(
                    user=user,
                    kind=kind,
                    title=message.subject,
                    body=message.body,
                    data=data or {},
                )
                deliveries.append(
                    Delivery.objects.create(
                        user=user,
                        notification=notification,
                        kind=kind,
                        channel=channel,
                        language=message.language,
                        recipient=str(user.pk),
                        subject=message.subject,
                        body=message.body,
                        critical=critical,
                        status=Delivery.Status.SENT,
                        attempts=1,
                        sent_at=timezone.now(),
                    )
                )
                continue
            address = _user_address(user, channel)
            if not address:
                logger.info(
                    "notification_channel_skipped",
                    kind=kind,
                    channel=channel,
                    user_id=str(user.pk),
                    reason="no_address",
                )
                continue
            deliveries.append(
                _queue(
                    channel=channel,
                    recipient=address,
                    rendered=message,
                    critical=critical,
                    user=user,
                    notification=notification,
                )
            )
    return deliveries


def _account_for_address(channel: str, address: str) -> Any:
    users = get_user_model().objects
    if channel == Channel.EMAIL:
        return users.filter(email__iexact=address).first()
    return users.filter(phone_number=address).first()


def _opted_out(channel: str, address: str, kind: str) -> bool:
    account = _account_for_address(channel, address)
    if account is None or not kind:
        return False
    return channel not in preference_channels_enabled(user=account, kind=kind, channels=[channel])


def send_sms(
    *, to: str, body: str, kind: str = "", critical: bool = True, language: str = ""
) -> Delivery | None:
    """Queue one text message to the E.164 number `to`, account or not (a sign-up OTP).

    When not `critical` and the number belongs to a user who turned SMS off for `kind`,
    nothing is sent and None is returned.
    """
    if not is_e164(to):
        raise InvalidRecipientError(
            gettext("Phone numbers must be in E.164 form, for example +27821234567."),
            fields={"to": gettext("Not an E.164 phone number.")},
        )
    if not body.strip():
        raise InvalidInputError(
            gettext("An SMS needs a body."), fields={"body": gettext("Required.")}
        )
    if not critical and _opted_out(Channel.SMS, to, kind):
        return None
    with transaction.atomic():
        return _queue(
            channel=Channel.SMS,
            recipient=to,
            body=body,
            kind=kind,
            language=language,
            critical=critical,
        )


def send_email(
    *,
    to: str,
    subject: str,
    body: str,
    kind: str = "",
    critical: bool = True,
    language: str = "",
) -> Delivery | None:
    """Queue one plain-text email to `to`, account or not.

    When not `critical` and the address belongs to a user who turned email off for `kind`,
    nothing is sent and None is returned.
    """
    try:
        validate_email(to)
    except ValidationError:
        raise InvalidRecipientError(
            gettext("The email address is not valid."),
            fields={"to": gettext("Not a valid email address.")},
        ) from None
    subject = " ".join(subject.split())
    if not subject or not body.strip():
        raise InvalidInputError(
            gettext("An email needs a subject and a body."),
            fields={
                name: gettext("Required.")
                for name, value in (("subject", subject), ("body", body))
                if not value.strip()
            },
        )
    if not critical and _opted_out(Channel.EMAIL, to, kind):
        return None
    with transaction.atomic():
        return _queue(
            channel=Channel.EMAIL,
            recipient=to,
            subject=subject,
            body=body,
            kind=kind,
            language=language,
            critical=critical,
        )


def notification_mark_read(*, user: Any, notification_id: Any) -> Notification:
    """Mark one of the user's notifications read; reading it again keeps the first time."""
    with transaction.atomic():
        notification = notification_get_for_user(user=user, notification_id=notification_id)
        if notification.read_at is None:
            notification.read_at = timezone.now()
            notification.save(update_fields=["read_at", "updated_at"])
    return notification


def notification_mark_all_read(*, user: Any) -> int:
    """Mark every unread notification of the user read; return how many changed."""
    now = timezone.now()
    with transaction.atomic():
        return Notification.objects.filter(user=user, read_at__isnull=True).update(
            read_at=now, updated_at=now
        )


@dataclass(frozen=True)
class PreferenceSpec:
    kind: str
    channel: str
    enabled: bool


def preference_set_all(
    *, user: Any, preferences: Iterable[PreferenceSpec]
) -> list[NotificationPreference]:
    """Replace the user's channel preferences with `preferences` (rules not listed go)."""
    specs = list(preferences)
    seen: set[tuple[str, str]] = set()
    for index, spec in enumerate(specs):
        if (spec.kind, spec.channel) in seen:
            raise DuplicatePreferenceError(
                fields={
                    f"preferences.{index}": gettext(
                        "%(kind)s on %(channel)s appears more than once."
                    )
                    % {"kind": spec.kind, "channel": spec.channel}
                },
            )
        seen.add((spec.kind, spec.channel))

    with transaction.atomic():
        existing = {
            (rule.kind, rule.channel): rule
            for rule in NotificationPreference.objects.select_for_update().filter(user=user)
        }
        saved: list[NotificationPreference] = []
        for spec in specs:
            rule = existing.pop((spec.kind, spec.channel), None) or NotificationPreference(
                user=user, kind=spec.kind, channel=spec.channel
            )
            rule.enabled = spec.enabled
            rule.full_clean(validate_unique=False, validate_constraints=False)
            rule.save()
            saved.append(rule)
        NotificationPreference.objects.filter(
            pk__in=[rule.pk for rule in existing.values()]
        ).delete()
    return sorted(saved, key=lambda rule: (rule.kind, rule.channel))


def delivery_retry_failed(*, delivery_ids: Iterable[Any]) -> int:
    """Queue failed deliveries again (the admin's retry action); return how many."""
    with transaction.atomic():
        retried = list(
            Delivery.objects.select_for_update()
            .filter(pk__in=list(delivery_ids), status=Delivery.Status.FAILED)
            .exclude(channel=Channel.IN_APP)
            .values_list("pk", flat=True)
        )
        Delivery.objects.filter(pk__in=retried).update(
            status=Delivery.Status.QUEUED, updated_at=timezone.now()
        )
        for delivery_id in retried:
            enqueue_on_commit(send_delivery, delivery_id=str(delivery_id))
    return len(retried)
