"""A welcome notification for each demo user, in their language (idempotent)."""

from __future__ import annotations

from tessera.accounts.demo import DEMO_USERS
from tessera.accounts.models import User
from tessera.notifications.models import Notification
from tessera.notifications.services import NotifyItem, notify_many


def load() -> int:
    emails = [spec["email"] for spec in DEMO_USERS]
    welcomed = Notification.objects.filter(kind="account.welcome").values("user")
    newcomers = User.objects.filter(email__in=emails).exclude(pk__in=welcomed)
    result = notify_many(
        kind="account.welcome",
        items=[NotifyItem(user=user, context={"name": user.name}) for user in newcomers],
        channels=["in_app"],
    )
    return len(result.notifications)
