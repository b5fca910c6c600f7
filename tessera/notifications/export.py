"""The notifications section of the account export (tessera.core.exports)."""

from __future__ import annotations

from typing import Any

from tessera.notifications.models import Delivery
from tessera.notifications.schemas import NotificationOut, PreferenceOut
from tessera.notifications.selectors import notification_list, preference_list


def account_export(*, user: Any) -> dict[str, Any]:
    """The person's in-app notifications, their preferences, and the record of every email
    and SMS sent to them. Message bodies are left out of the deliveries: they carry
    one-time codes and sign-in links, which an export file must not keep alive."""
    return {
        "inApp": [
            NotificationOut(
                id=notification.pk,
                kind=notification.kind,
                title=notification.title,
                body=notification.body,
                data=notification.data,
                is_read=notification.is_read,
                read_at=notification.read_at,
                created_at=notification.created_at,
            ).model_dump(mode="json", by_alias=True)
            for notification in notification_list(user=user)
        ],
        "preferences": [
            PreferenceOut(kind=rule.kind, channel=rule.channel, enabled=rule.enabled).model_dump(
                mode="json", by_alias=True
            )
            for rule in preference_list(user=user)
        ],
        "deliveries": [
            {
                "id": str(delivery.pk),
                "kind": delivery.kind,
                "channel": delivery.channel,
                "recipient": delivery.recipient,
                "subject": delivery.subject,
                "language": delivery.language,
                "status": delivery.status,
                "createdAt": delivery.created_at.isoformat(),
                "sentAt": delivery.sent_at.isoformat() if delivery.sent_at else None,
            }
            for delivery in Delivery.objects.filter(user=user).order_by("-created_at", "-id")
        ],
    }
