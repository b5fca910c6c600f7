from __future__ import annotations

from typing import Any

import pytest
from django.core.management import call_command

from tessera.accounts.models import User
from tessera.notifications.models import Notification

pytestmark = pytest.mark.django_db


def test_seed_demo_is_idempotent(tmp_path: Any, monkeypatch: Any) -> None:
    from tessera.core.management.commands import seed_demo

    monkeypatch.setattr(seed_demo, "PASSWORD_FILE", tmp_path / "admin-password")

    call_command("seed_demo")
    counts = (User.objects.count(), Notification.objects.count())
    call_command("seed_demo")

    assert (User.objects.count(), Notification.objects.count()) == counts
    admin = User.objects.get(email="admin@tessera.local")
    password = (tmp_path / "admin-password").read_text()
    assert admin.is_superuser
    assert admin.check_password(password)
    arabic = Notification.objects.get(user__email="amal@tessera.local", kind="account.welcome")
    assert arabic.title.startswith("أهلًا")


def test_demo_data_is_added_once_even_after_the_minute_capsule_unlocked(
    tmp_path: Any, monkeypatch: Any
) -> None:
    from io import StringIO

    from tessera.capsules.models import Capsule, CapsuleState
    from tessera.core.management.commands import seed_demo

    monkeypatch.setattr(seed_demo, "PASSWORD_FILE", tmp_path / "admin-password")
    call_command("seed_demo", stdout=StringIO())
    capsules = Capsule.objects.count()
    # The demo's "a minute from now" capsule has unlocked and been opened since.
    Capsule.objects.filter(title="A minute from now").update(state=CapsuleState.OPENED)

    output = StringIO()
    call_command("seed_demo", stdout=output)

    assert Capsule.objects.count() == capsules
    assert "Demo data for capsules: 0 new" in output.getvalue()
    assert not [
        line
        for line in output.getvalue().splitlines()
        if line.endswith(" new") and not line.endswith(": 0 new")
    ]
