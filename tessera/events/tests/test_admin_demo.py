"""The demo loads once, and every events admin page opens with its filters."""

from __future__ import annotations

from typing import Any

import pytest
from django.test import Client

from tessera.accounts.models import User
from tessera.events import demo
from tessera.events.models import Event, Ticket

pytestmark = pytest.mark.django_db

ADMIN_PAGES = [
    "venue",
    "event",
    "joinrequest",
    "invite",
    "attendance",
    "ticket",
    "checkin",
    "organiser",
]


def _demo_users() -> None:
    User.objects.create_user(
        email="demo@tessera.local", password="tessera-demo-password", name="Demo"
    )
    User.objects.create_user(
        email="amal@tessera.local", password="tessera-demo-password", name="أمل", language="ar"
    )


def test_the_demo_loads_public_events_once_one_of_them_paid() -> None:
    _demo_users()
    created = demo.load()
    assert created == 7
    assert demo.load() == 0
    events = Event.objects.all()
    assert {e.status for e in events} == {"published"}
    assert sum(1 for e in events if e.price_minor) == 1
    assert Ticket.objects.filter(holder__email="amal@tessera.local", status="valid").count() == 1


def test_every_admin_page_opens(settings: Any) -> None:
    _demo_users()
    demo.load()
    admin = User.objects.create_superuser(email="root@example.com", password="a long pass phrase")
    client = Client()
    client.force_login(admin)
    for model in ADMIN_PAGES:
        listing = client.get(f"/admin/events/{model}/?q=a")
        assert listing.status_code == 200, model
    event = Event.objects.first()
    assert event is not None
    assert client.get(f"/admin/events/event/{event.pk}/change/").status_code == 200
    assert (
        client.get(
            "/admin/events/event/?status__exact=published&visibility__exact=public"
        ).status_code
        == 200
    )
