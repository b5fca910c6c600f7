"""A person who deletes their account leaves events: the events they host are cancelled as
the host would cancel them, and their own places, requests and door roles end."""

from __future__ import annotations

from typing import Any

import pytest

from tessera.events import statemachine as sm
from tessera.events.models import Event, EventHelper, JoinRequest, Ticket
from tessera.events.services import account_departure
from tessera.events.tests.conftest import client_for, make_user
from tessera.events.tests.test_paid import _act, _checkout
from tessera.notifications.models import Notification
from tessera.payments.tests.fixtures import _payments_settings, sandbox_wire  # noqa: F401

pytestmark = pytest.mark.django_db

PASSWORD = "a long pass phrase"  # make_user's


def _delete_account(api: Any, capture: Any) -> None:
    with capture(execute=True):
        reply = api.delete("/api/auth/me", {"password": PASSWORD}, content_type="application/json")
    assert reply.status_code == 204, reply.content


@pytest.mark.usefixtures("sandbox_wire")
def test_a_deleted_hosts_events_are_cancelled_refunded_and_their_people_told(
    make_event: Any,
    host_api: Any,
    guest: Any,
    guest_api: Any,
    django_capture_on_commit_callbacks: Any,
) -> None:
    paid = make_event(price="150.00", currency="ZAR", requiresApproval=False)
    draft = make_event(publish=False, title="Still a draft")
    guest_api.post(f"/api/events/{paid['id']}/requests", {})
    ticket = guest_api.get("/api/events/tickets").json()["data"]["items"][0]
    url = _checkout(guest_api, ticket["id"]).json()["data"]["checkoutUrl"]
    _act(url, "pay", django_capture_on_commit_callbacks)
    assert Ticket.objects.get(pk=ticket["id"]).status == sm.VALID

    _delete_account(host_api, django_capture_on_commit_callbacks)

    assert Event.objects.get(pk=paid["id"]).status == sm.CANCELLED
    assert Event.objects.get(pk=draft["id"]).status == sm.CANCELLED
    stored = Ticket.objects.get(pk=ticket["id"])
    assert (stored.status, stored.refunded_minor) == (sm.REVOKED, 15000)
    assert Notification.objects.filter(user=guest, kind="events.cancelled").count() == 1
    assert guest_api.get(f"/api/events?q={paid['title']}").json()["data"]["items"] == []
    # Nothing is left for a second run (a redelivered task).
    assert account_departure(user_id=paid["host"]["id"]).events_cancelled == 0


def test_a_deleted_guest_gives_up_places_requests_and_door_roles(
    make_event: Any,
    host_api: Any,
    guest: Any,
    guest_api: Any,
    django_capture_on_commit_callbacks: Any,
) -> None:
    full = make_event(capacity=1, requiresApproval=False)
    other = make_event(title="Approval needed", requiresApproval=True)
    guest_api.post(f"/api/events/{full['id']}/requests", {})
    waiting_user = make_user("waiting@example.com")
    waiting = client_for(waiting_user).post(f"/api/events/{full['id']}/requests", {})
    assert waiting.json()["data"]["waitlisted"] is True
    pending = guest_api.post(f"/api/events/{other['id']}/requests", {}).json()["data"]
    assert pending["status"] == "pending"
    helper = host_api.post(f"/api/events/{other['id']}/helpers", {"userId": str(guest.pk)})
    assert helper.status_code in (200, 201), helper.json()

    _delete_account(guest_api, django_capture_on_commit_callbacks)

    assert not Ticket.objects.filter(holder=guest, status__in=sm.TICKET_HOLDS_PLACE).exists()
    assert JoinRequest.objects.get(pk=pending["id"]).status == sm.CANCELLED
    assert not EventHelper.objects.filter(user=guest).exists()
    # The freed place went to the waitlist, in order.
    promoted = Ticket.objects.get(event_id=full["id"], holder=waiting_user)
    assert promoted.status in sm.TICKET_HOLDS_PLACE
    assert Event.objects.get(pk=full["id"]).places_taken == 1
    # Their hosts' events go on.
    assert Event.objects.get(pk=other["id"]).status == sm.PUBLISHED


def _tasks_queued(callbacks: list[Any]) -> list[str]:
    """Names of the tasks `core.jobs.enqueue_on_commit` callbacks would send."""
    cells = [cell.cell_contents for c in callbacks for cell in (c.__closure__ or ())]
    return [getattr(task, "name", "") for task in cells if hasattr(task, "apply_async")]


@pytest.mark.parametrize("hosts_an_event", [False, True])
def test_a_departure_is_queued_only_for_an_account_with_ties_to_events(
    hosts_an_event: bool,
    make_event: Any,
    host_api: Any,
    django_capture_on_commit_callbacks: Any,
) -> None:
    if hosts_an_event:
        make_event()
    with django_capture_on_commit_callbacks() as callbacks:
        reply = host_api.delete(
            "/api/auth/me", {"password": PASSWORD}, content_type="application/json"
        )
    assert reply.status_code == 204
    assert ("events.account_departure" in _tasks_queued(callbacks)) is hosts_an_event
