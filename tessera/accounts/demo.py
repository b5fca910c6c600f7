"""Demo accounts for `make run` (idempotent)."""

from __future__ import annotations

from tessera.accounts.models import User
from tessera.accounts.services import user_create

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


def load() -> int:
    created = 0
    for spec in DEMO_USERS:
        if User.objects.filter(email__iexact=spec["email"]).exists():
            continue
        user_create(password=DEMO_PASSWORD, **spec)
        created += 1
    return created
