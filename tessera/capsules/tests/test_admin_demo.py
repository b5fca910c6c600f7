from __future__ import annotations

from typing import Any

import pytest
from django.test import Client

from tessera.accounts.models import User
from tessera.capsules import demo
from tessera.capsules.models import Capsule, CapsuleState
from tessera.capsules.services import capsule_unlock_sweep

pytestmark = pytest.mark.django_db


@pytest.fixture
def demo_users() -> list[Any]:
    return [
        User.objects.create_user(email="demo@tessera.local", name="Demo"),
        User.objects.create_user(email="amal@tessera.local", name="Amal"),
    ]


def test_demo_load_is_idempotent_and_covers_every_state(demo_users: list[Any]) -> None:
    assert demo.load() == 8
    assert demo.load() == 0
    states = set(Capsule.objects.values_list("state", flat=True))
    assert states == set(CapsuleState.values)
    assert capsule_unlock_sweep(notify_after=False).readied == 0


def test_admin_lists_capsules_with_counts_and_hides_unopened_bodies(
    demo_users: list[Any],
) -> None:
    demo.load()
    staff = User.objects.create_superuser(email="admin@example.com", password="pw-admin-123")
    client = Client()
    client.force_login(staff)
    listing = client.get("/admin/capsules/capsule/?state__exact=sealed")
    assert listing.status_code == 200
    assert b"Sealed: " in listing.content  # state names as the admin's language writes them
    sealed = Capsule.objects.filter(state=CapsuleState.SEALED).first()
    opened = Capsule.objects.get(state=CapsuleState.OPENED)
    assert sealed is not None
    page = client.get(f"/admin/capsules/capsule/{sealed.pk}/change/")
    assert page.status_code == 200
    assert sealed.body.encode() not in page.content
    assert (
        opened.body.encode() in client.get(f"/admin/capsules/capsule/{opened.pk}/change/").content
    )
