"""Writes, and the entry points other apps call: `notify_many` (many people, one kind),
`notify` (one person), `send_many` / `send_sms` / `send_email` (addresses, account or not)."""

from __future__ import annotations

from collections.abc import Iterable
from dataclasses import dataclass
from typing import Any

import structlog
from django.contrib.auth import get_user_model
from django.contrib.auth.base_user import AbstractBaseUser
from django.core.exceptions import ValidationError
from django.core.validators import validate_email
from django.db import transaction
from django.utils import timezone
from django.utils.translation import gettext

from tessera.core.errors import InvalidInputError
from tessera.core.jobs import enqueue_on_commit
from tessera.notifications.errors import DuplicatePreferenceError, InvalidRecipientError
from tessera.notifications.fanout import (
    NotifyItem,
    NotifyManyResult,
    OutboundMessage,
    notify_many,
    send_many,
)
from tessera.notifications.models import (
    Channel,
    Delivery,
    Notification,
    NotificationPreference,
)
from tessera.notifications.selectors import (
    RenderedMessage,
    notification_get_for_user,
    preference_channels_enabled,
)
from tessera.notifications.sms import is_e164
from tessera.notifications.tasks import send_delivery

logger = structlog.get_logger("tessera.notifications")


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
    user: AbstractBaseUser | None = None,
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
        user_id=user.pk if user is not None else None,
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
    user: AbstractBaseUser,
    kind: str,
    context: dict[str, Any] | None = None,
    channels: Iterable[str] | None = None,
    language: str | None = None,
    critical: bool = False,
    data: dict[str, Any] | None = None,
) -> NotifyManyResult:
    """Tell `user` about `kind`: `notify_many` with one item (see it for the rules).

    Templates render with `context` in `language` (else the user's language, else English,
    falling back to English per channel). The user's preferences decide which channels go
    out unless `critical` (OTP codes, security alerts). `data` rides along on the in-app
    notification for the client (ids for a deep link). Email and SMS are queued and sent
    after the surrounding transaction commits; in-app is stored at once. Returns the
    notification written (if any) and the deliveries queued; a channel the user has no
    address for is skipped. To tell several people, call `notify_many` once.
    """
    return notify_many(
        kind=kind,
        items=[NotifyItem(user=user, context=context, data=data, language=language)],
        channels=channels,
        critical=critical,
    )


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


def notification_mark_read(*, user: AbstractBaseUser, notification_id: Any) -> Notification:
    """Mark one of the user's notifications read; reading it again keeps the first time."""
    with transaction.atomic():
        notification = notification_get_for_user(user=user, notification_id=notification_id)
        if notification.read_at is None:
            notification.read_at = timezone.now()
            notification.save(update_fields=["read_at", "updated_at"])
    return notification


def notification_mark_all_read(*, user: AbstractBaseUser) -> int:
    """Mark every unread notification of the user read; return how many changed."""
    now = timezone.now()
    with transaction.atomic():
        return Notification.objects.filter(user_id=user.pk, read_at__isnull=True).update(
            read_at=now, updated_at=now
        )


@dataclass(frozen=True)
class PreferenceSpec:
    kind: str
    channel: str
    enabled: bool


def preference_set_all(
    *, user: AbstractBaseUser, preferences: Iterable[PreferenceSpec]
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
            for rule in NotificationPreference.objects.select_for_update().filter(user_id=user.pk)
        }
        saved: list[NotificationPreference] = []
        for spec in specs:
            rule = existing.pop((spec.kind, spec.channel), None) or NotificationPreference(
                user_id=user.pk, kind=spec.kind, channel=spec.channel
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
        now = timezone.now()
        Delivery.objects.filter(pk__in=retried).update(
            status=Delivery.Status.QUEUED, next_attempt_at=now, updated_at=now
        )
        for delivery_id in retried:
            enqueue_on_commit(send_delivery, delivery_id=str(delivery_id))
    return len(retried)


__all__ = [
    "NotifyItem",
    "NotifyManyResult",
    "OutboundMessage",
    "PreferenceSpec",
    "delivery_retry_failed",
    "notification_mark_all_read",
    "notification_mark_read",
    "notify",
    "notify_many",
    "preference_set_all",
    "send_email",
    "send_many",
    "send_sms",
]
