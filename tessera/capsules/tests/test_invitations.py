"""Receivers without an account: email or SMS invitations, and the capsule reaching their
inbox once they sign up and verify that address or number."""

from __future__ import annotations

import re
from collections.abc import Iterator
from datetime import timedelta
from typing import Any

import pytest
from django.utils import timezone

from tessera.accounts.models import User
from tessera.accounts.tokens import access_token_issue
from tessera.capsules import services
from tessera.capsules.models import Capsule, Recipient
from tessera.capsules.tests.factories import make_capsule
from tessera.notifications.models import Delivery
from tessera.notifications.sms import MemorySmsProvider
from tests.fixtures import ApiClient

pytestmark = pytest.mark.django_db

NUMBER = "+27821234567"


@pytest.fixture(autouse=True)
def _empty_sms_outbox() -> Iterator[None]:
    MemorySmsProvider.outbox.clear()
    yield
    MemorySmsProvider.outbox.clear()


def iso(delta: timedelta) -> str:
    return (timezone.now() + delta).isoformat().replace("+00:00", "Z")


def seal(client: Any, capsule_id: str, *, days: int = 4) -> Any:
    return client.post(
        f"/api/capsules/{capsule_id}/seal", {"scheduledUnlockAt": iso(timedelta(days=days))}
    )


def sms_to(number: str) -> list[Any]:
    return [message for message in MemorySmsProvider.outbox if message.to == number]


def test_a_phone_only_receiver_is_invited_by_sms_and_gets_the_capsule_after_otp_sign_up(
    user_api: Any, api: Any, django_capture_on_commit_callbacks: Any
) -> None:
    created = user_api.post("/api/capsules", {"title": "For you", "receiverPhone": NUMBER})
    assert created.status_code == 201, created.json()
    capsule = created.json()["data"]
    assert (capsule["receiver"], capsule["receiverPhone"]) == (None, NUMBER)

    with django_capture_on_commit_callbacks(execute=True):
        assert seal(user_api, capsule["id"]).status_code == 200

    invitation = Delivery.objects.get(recipient=NUMBER)
    assert (invitation.channel, invitation.kind) == ("sms", "capsules.invitation")
    assert not Delivery.objects.filter(channel="email").exists()
    [message] = sms_to(NUMBER)
    assert "For you" in message.body
    assert "Ada" in message.body

    # The newcomer signs up with that number by OTP, through the public API.
    with django_capture_on_commit_callbacks(execute=True):
        assert api.post("/api/auth/signup", {"phoneNumber": NUMBER}).status_code == 200
    code = re.search(r"\b(\d{4,8})\b", sms_to(NUMBER)[-1].body)
    assert code is not None
    verified = api.post("/api/auth/verify-otp", {"phoneNumber": NUMBER, "otpCode": code.group(1)})
    assert verified.status_code == 200, verified.json()
    newcomer = ApiClient(token=verified.json()["data"]["accessToken"])

    inbox = newcomer.get("/api/capsules?box=inbox").json()["data"]
    assert [item["id"] for item in inbox["items"]] == [capsule["id"]]
    assert inbox["items"][0]["receiverPhone"] is None  # only the sender sees the address
    assert Capsule.objects.get(pk=capsule["id"]).receiver == User.objects.get(phone_number=NUMBER)


def test_an_unverified_phone_does_not_claim_a_capsule(user_api: Any) -> None:
    capsule = user_api.post("/api/capsules", {"title": "x", "receiverPhone": NUMBER}).json()
    assert seal(user_api, capsule["data"]["id"]).status_code == 200
    # An account that holds the number without having confirmed it by OTP.
    holder = User.objects.create_user(email="holder@example.com", phone_number=NUMBER)
    client = ApiClient(token=access_token_issue(user=holder))

    assert client.get("/api/capsules?box=inbox").json()["data"]["count"] == 0
    assert Capsule.objects.get(pk=capsule["data"]["id"]).receiver_id is None

    holder.phone_verified_at = timezone.now()
    holder.save()
    assert client.get("/api/capsules?box=inbox").json()["data"]["count"] == 1


def test_a_phone_only_address_book_entry_is_invited_by_sms_and_linked_on_claim(
    user_api: Any, django_capture_on_commit_callbacks: Any
) -> None:
    recipient = user_api.post("/api/recipients", {"name": "Nomsa", "phone": NUMBER}).json()["data"]
    assert recipient["userId"] is None
    draft = user_api.post("/api/drafts", {"title": "Later", "recipientId": recipient["id"]})
    with django_capture_on_commit_callbacks(execute=True):
        sent = user_api.post(
            f"/api/drafts/{draft.json()['data']['id']}/send",
            {"scheduledUnlockAt": iso(timedelta(days=5))},
        )
    assert sent.status_code == 201, sent.json()
    assert [m.to for m in MemorySmsProvider.outbox] == [NUMBER]

    newcomer = User.objects.create_user(phone_number=NUMBER)
    newcomer.phone_verified_at = timezone.now()
    newcomer.save()
    assert services.capsules_claim_pending(user=newcomer) == 1
    assert Recipient.objects.get(pk=recipient["id"]).user == newcomer


def test_a_number_with_a_verified_account_goes_straight_to_it(user_api: Any) -> None:
    holder = User.objects.create_user(phone_number=NUMBER, name="Nomsa")
    holder.phone_verified_at = timezone.now()
    holder.save()

    created = user_api.post("/api/capsules", {"title": "Hi", "receiverPhone": NUMBER})
    assert created.status_code == 201
    assert created.json()["data"]["receiver"]["id"] == str(holder.pk)
    assert seal(user_api, created.json()["data"]["id"]).status_code == 200
    assert not Delivery.objects.exists()
    recipient = user_api.post("/api/recipients", {"name": "N", "phone": NUMBER}).json()["data"]
    assert recipient["userId"] == str(holder.pk)


def test_the_sweep_reminds_a_phone_only_receiver_by_sms_when_ready(user: Any) -> None:
    capsule = make_capsule(
        sender=user, receiver=None, receiver_phone=NUMBER, unlock_in=timedelta(seconds=-5)
    )
    services.capsule_unlock_sweep(notify_after=False)
    assert services.capsule_notify_events() == 1
    reminder = Delivery.objects.get(recipient=NUMBER)
    assert (reminder.channel, reminder.kind) == ("sms", "capsules.invitation")
    capsule.refresh_from_db()
    assert capsule.events.get().notified_at is not None


@pytest.mark.parametrize(
    "body",
    [
        {"title": "x", "receiverPhone": "0821234567"},  # not international
        {"title": "x", "receiverPhone": "+2700000"},  # the right shape, not a real number
        {"title": "x", "receiverPhone": NUMBER, "receiverEmail": "a@example.com"},
    ],
)
def test_bad_phone_receivers_are_422_and_create_nothing(user_api: Any, body: Any) -> None:
    response = user_api.post("/api/capsules", body)
    assert response.status_code == 422, response.json()
    assert response.json()["status"] == "error"
    assert Capsule.objects.count() == 0
    assert not Delivery.objects.exists()


def test_a_bad_phone_in_the_address_book_is_422_and_changes_nothing(user_api: Any) -> None:
    recipient = user_api.post("/api/recipients", {"name": "N", "email": "n@example.com"})
    entry = recipient.json()["data"]
    response = user_api.patch(f"/api/recipients/{entry['id']}", {"phone": "+2700000"})
    assert response.status_code == 422
    assert response.json()["error"]["fields"] == {
        "phone": "Use the international form, for example +27821234567."
    }
    assert Recipient.objects.get(pk=entry["id"]).phone == ""
