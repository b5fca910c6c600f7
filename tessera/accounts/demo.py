"""Demo accounts for `make run`, each welcomed in their language (idempotent)."""

from __future__ import annotations

from tessera.accounts.models import User
from tessera.accounts.services import user_create
from tessera.notifications.selectors import users_notified
from tessera.notifications.services import NotifyItem, notify_many

DEMO_USERS = (
    {
        "email": "demo@tessera.local",
        "name": "Dana Demo",
        "language": "en",
        "phone_number": "+27820000001",
    },
    {
        "email": "amal@tessera.local",
        "name": "أمل",
        "language": "ar",
        "phone_number": "+971500000002",
    },
)
DEMO_PASSWORD = "tessera-demo-password"  # noqa: S105 - printed in the README for local use
WELCOME = "account.welcome"


def load() -> int:
    created = 0
    for spec in DEMO_USERS:
        if User.objects.filter(email__iexact=spec["email"]).exists():
            continue
        user_create(password=DEMO_PASSWORD, **spec)
        created += 1
    return created + _welcome()


def _welcome() -> int:
    """A welcome notification for each demo user who has none yet. It lived in
    `notifications/demo.py`, which made a platform app reach into the accounts' demo data."""
    users = list(User.objects.filter(email__in=[spec["email"] for spec in DEMO_USERS]))
    welcomed = users_notified(kind=WELCOME, user_ids=[user.pk for user in users])
    result = notify_many(
        kind=WELCOME,
        items=[
            NotifyItem(user=user, context={"name": user.name})
            for user in users
            if user.pk not in welcomed
        ],
        channels=["in_app"],
    )
    return len(result.notifications)
