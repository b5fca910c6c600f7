"""Paid tickets end to end through the payments layer's sandbox gateway: the place is held,
the checkout paid, the ticket confirmed; refunds when the attendee cancels in time or the
host cancels; a failed payment can be tried again; a lapsed hold frees the place."""

from __future__ import annotations

from datetime import timedelta
from typing import Any
from urllib.parse import urlparse

import pytest
from django.test import Client
from django.utils import timezone

from tessera.events import statemachine as sm
from tessera.events.models import Event, Ticket
from tessera.events.services import events_sweep
from tessera.notifications.models import Delivery, Notification
from tessera.payments.tests.fixtures import _payments_settings, sandbox_wire  # noqa: F401

pytestmark = pytest.mark.django_db


@pytest.fixture
def paid(make_event: Any, guest_api: Any) -> dict[str, Any]:
    event = make_event(price="150.00", currency="ZAR", requiresApproval=False, capacity=1)
    assert event["price"] == {"amount": "150.00", "currency": "ZAR"}
    joined = guest_api.post(f"/api/events/{event['id']}/requests", {})
    assert joined.json()["data"]["status"] == "accepted"
    ticket = guest_api.get("/api/events/tickets").json()["data"]["items"][0]
    assert (ticket["status"], ticket["secret"]) == ("reserved", None)
    assert ticket["holdExpiresAt"]
    return {"event": event, "ticket": ticket}


def _checkout(api: Any, ticket_id: str, key: str = "pay-1") -> Any:
    return api.post(f"/api/events/tickets/{ticket_id}/checkout", {}, HTTP_IDEMPOTENCY_KEY=key)


def _act(checkout_url: str, action: str, capture: Any) -> None:
    with capture(execute=True):
        reply = Client().post(urlparse(checkout_url).path, {"action": action})
    assert reply.status_code in (200, 303), reply.content[:300]


@pytest.mark.usefixtures("sandbox_wire")
def test_paying_confirms_the_ticket_and_cancelling_in_time_refunds_it(
    paid: dict[str, Any], guest_api: Any, django_capture_on_commit_callbacks: Any
) -> None:
    ticket_id = paid["ticket"]["id"]
    first = _checkout(guest_api, ticket_id)
    assert first.status_code == 200, first.json()
    url = first.json()["data"]["checkoutUrl"]
    assert "/sandbox/checkout/" in url
    # The same checkout again (another key) is the same order.
    assert _checkout(guest_api, ticket_id, key="pay-2").json()["data"]["checkoutUrl"] == url
    unpaid = guest_api.post(
        f"/api/events/{paid['event']['id']}/checkins", {}
    )  # the guest is no door helper
    assert unpaid.status_code == 422  # (body refused before anything else)

    _act(url, "pay", django_capture_on_commit_callbacks)

    ticket = guest_api.get(f"/api/events/tickets/{ticket_id}").json()["data"]
    assert ticket["status"] == "valid"
    assert ticket["secret"]
    assert ticket["code"]
    stored = Ticket.objects.get(pk=ticket_id)
    assert stored.order_id is not None
    assert stored.emailed_at is not None

    with django_capture_on_commit_callbacks(execute=True):
        assert guest_api.delete(f"/api/events/{paid['event']['id']}/attendance").status_code == 204
    stored.refresh_from_db()
    assert stored.status == sm.REVOKED
    assert stored.refunded_minor == 15000
    assert Event.objects.get(pk=paid["event"]["id"]).places_taken == 0


@pytest.mark.usefixtures("sandbox_wire")
def test_cancelling_after_the_refund_cutoff_is_not_refunded(
    paid: dict[str, Any], guest_api: Any, settings: Any, django_capture_on_commit_callbacks: Any
) -> None:
    settings.EVENTS_REFUND_CUTOFF_HOURS = 24 * 30  # the start is closer than this
    url = _checkout(guest_api, paid["ticket"]["id"]).json()["data"]["checkoutUrl"]
    _act(url, "pay", django_capture_on_commit_callbacks)
    with django_capture_on_commit_callbacks(execute=True):
        guest_api.delete(f"/api/events/{paid['event']['id']}/attendance")
    stored = Ticket.objects.get(pk=paid["ticket"]["id"])
    assert (stored.status, stored.refunded_minor, stored.refund_requested_at) == (
        sm.REVOKED,
        0,
        None,
    )


@pytest.mark.usefixtures("sandbox_wire")
def test_the_host_cancelling_refunds_in_full(
    paid: dict[str, Any], guest_api: Any, host_api: Any, django_capture_on_commit_callbacks: Any
) -> None:
    url = _checkout(guest_api, paid["ticket"]["id"]).json()["data"]["checkoutUrl"]
    _act(url, "pay", django_capture_on_commit_callbacks)
    with django_capture_on_commit_callbacks(execute=True):
        assert host_api.post(f"/api/events/{paid['event']['id']}/cancel").status_code == 200
    stored = Ticket.objects.get(pk=paid["ticket"]["id"])
    assert (stored.status, stored.refunded_minor) == (sm.REVOKED, 15000)


@pytest.mark.usefixtures("sandbox_wire")
def test_a_failed_payment_can_be_tried_again(
    paid: dict[str, Any], guest_api: Any, django_capture_on_commit_callbacks: Any
) -> None:
    ticket_id = paid["ticket"]["id"]
    first = _checkout(guest_api, ticket_id).json()["data"]["checkoutUrl"]
    _act(first, "fail", django_capture_on_commit_callbacks)
    assert Ticket.objects.get(pk=ticket_id).status == sm.RESERVED
    second = _checkout(guest_api, ticket_id, key="pay-again").json()["data"]["checkoutUrl"]
    assert second != first
    _act(second, "pay", django_capture_on_commit_callbacks)
    assert Ticket.objects.get(pk=ticket_id).status == sm.VALID


@pytest.mark.usefixtures("sandbox_wire")
def test_a_lapsed_hold_frees_the_place_and_a_late_payment_is_refunded_when_it_is_gone(
    paid: dict[str, Any], guest_api: Any, django_capture_on_commit_callbacks: Any
) -> None:
    from tessera.events.tests.conftest import client_for, make_user

    ticket_id = paid["ticket"]["id"]
    url = _checkout(guest_api, ticket_id).json()["data"]["checkoutUrl"]
    Ticket.objects.filter(pk=ticket_id).update(
        hold_expires_at=timezone.now() - timedelta(seconds=1)
    )
    late = make_user("late@example.com")
    waiting = client_for(late).post(f"/api/events/{paid['event']['id']}/requests", {})
    assert waiting.json()["data"]["waitlisted"] is True
    with django_capture_on_commit_callbacks(execute=True):
        assert events_sweep().holds_expired == 1
    assert Ticket.objects.get(pk=ticket_id).status == sm.EXPIRED
    assert Ticket.objects.get(event_id=paid["event"]["id"], holder=late).status == sm.RESERVED
    # The first checkout was cancelled at the gateway with the hold: paying it is refused.
    reply = Client().post(urlparse(url).path, {"action": "pay"})
    assert reply.status_code == 409
    assert Ticket.objects.get(pk=ticket_id).status == sm.EXPIRED


@pytest.mark.usefixtures("sandbox_wire")
def test_a_payment_for_a_ticket_given_up_meanwhile_is_refunded_and_the_payer_told(
    paid: dict[str, Any], guest_api: Any, guest: Any, django_capture_on_commit_callbacks: Any
) -> None:
    ticket_id = paid["ticket"]["id"]
    url = _checkout(guest_api, ticket_id).json()["data"]["checkoutUrl"]
    # Given up while the checkout is still open at the gateway (its cancellation not sent).
    assert guest_api.delete(f"/api/events/{paid['event']['id']}/attendance").status_code == 204
    assert Ticket.objects.get(pk=ticket_id).status == sm.REVOKED

    _act(url, "pay", django_capture_on_commit_callbacks)

    stored = Ticket.objects.get(pk=ticket_id)
    assert (stored.status, stored.refunded_minor) == (sm.REVOKED, 15000)
    assert stored.refund_requested_at is not None
    notice = Notification.objects.get(user=guest, kind="events.payment_refunded")
    assert notice.title == "Refunded: Jazz night"
    assert notice.data == {"eventId": paid["event"]["id"], "ticketId": ticket_id}
    assert list(
        Delivery.objects.filter(kind="events.payment_refunded").values_list(
            "channel", "recipient", "status"
        )
    ) == [("email", "guest@example.com", "sent")]
    assert not Notification.objects.filter(user=guest, kind="events.ticket").exists()
