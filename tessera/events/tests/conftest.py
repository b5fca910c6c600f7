"""Fixtures for the events tests: a host, guests, an API client per person, events."""

from __future__ import annotations

from collections.abc import Callable
from datetime import timedelta
from typing import Any

import pytest
from django.db.models import F
from django.utils import timezone

from tessera.accounts.models import User
from tessera.accounts.tokens import access_token_issue
from tessera.events.push import MemoryPushBackend
from tests.fixtures import ApiClient


def make_user(email: str, name: str = "", **extra: Any) -> User:
    return User.objects.create_user(
        email=email, password="a long pass phrase", name=name or email.split("@", 1)[0], **extra
    )


def client_for(user: User) -> ApiClient:
    return ApiClient(token=access_token_issue(user=user))


def backdate(event_id: Any, by: timedelta) -> None:
    """Move an event's creation and its tickets' issue back in time, so a test can scan
    them at a past time (a scan dated before its ticket existed is refused)."""
    from tessera.events.models import Event, Ticket

    Event.objects.filter(pk=event_id).update(created_at=F("created_at") - by)
    Ticket.objects.filter(event_id=event_id).update(issued_at=F("issued_at") - by)


@pytest.fixture(autouse=True)
def pushed(settings: Any) -> Any:
    settings.EVENTS_PUSH_BACKEND = "tessera.events.push.MemoryPushBackend"
    MemoryPushBackend.sent.clear()
    return MemoryPushBackend.sent


@pytest.fixture
def host(db: Any) -> User:
    return make_user("host@example.com", "Hana Host")


@pytest.fixture
def guest(db: Any) -> User:
    return make_user("guest@example.com", "Gus Guest")


@pytest.fixture
def host_api(host: User) -> ApiClient:
    return client_for(host)


@pytest.fixture
def guest_api(guest: User) -> ApiClient:
    return client_for(guest)


def iso(delta: timedelta) -> str:
    return (timezone.now() + delta).isoformat()


def event_body(**changes: Any) -> dict[str, Any]:
    body: dict[str, Any] = {
        "title": "Jazz night",
        "description": "Live jazz in the garden",
        "startsAt": iso(timedelta(days=7)),
        "endsAt": iso(timedelta(days=7, hours=3)),
        "timezone": "Africa/Johannesburg",
        "capacity": 50,
        "onlineUrl": "https://example.com/live",
        "requiresApproval": True,
    }
    body.update(changes)
    return body


@pytest.fixture
def make_event(host_api: ApiClient) -> Callable[..., dict[str, Any]]:
    """Create (and by default publish) an event through the API; returns its reply data."""

    def make(
        *, publish: bool = True, client: ApiClient | None = None, **changes: Any
    ) -> dict[str, Any]:
        api = client or host_api
        reply = api.post("/api/events", event_body(**changes))
        assert reply.status_code == 201, reply.json()
        data = reply.json()["data"]
        if publish:
            published = api.post(f"/api/events/{data['id']}/publish")
            assert published.status_code == 200, published.json()
            data = published.json()["data"]
        return dict(data)

    return make
