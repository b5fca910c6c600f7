"""A welcome notification for each demo user, in their language (idempotent)."""

from __future__ import annotations

from tessera.accounts.demo import DEMO_USERS
from tessera.accounts.models import User
from tessera.notifications.models import Notification
from tessera.notifications.services import notify


def load() -> int:
    created = 0
    emails = [spec["email"] for spec in DEMO_USERS]
    for user in User.objects.filter(email__in=emails):
        if Notification.objects.filter(user=user, kind="account.welcome").exists():
            continue
        notify(user=user, kind="account.welcome", context={"name": user.name}, channels=["in_app"])
        created += 1
    return created
