"""The capsule routes through the real stack: the flow, visibility and every bad input."""

from __future__ import annotations

from datetime import timedelta
from typing import Any

import pytest
from django.utils import timezone

from tessera.capsules.models import Capsule, CapsuleState, Draft, Recipient
from tessera.capsules.tests.factories import make_capsule

pytestmark = pytest.mark.django_db


@pytest.fixture
def other_api(other_user: Any) -> Any:
    from tessera.accounts.tokens import access_token_issue
    from tests.fixtures import ApiClient

    return ApiClient(token=access_token_issue(user=other_user))


def iso(delta: timedelta) -> str:
    return (timezone.now() + delta).isoformat().replace("+00:00", "Z")


def create(client: Any, receiver: Any, **extra: Any) -> dict[str, Any]:
    body = {"title": "To you", "body": "Open me later", "receiverId": str(receiver.pk), **extra}
    response = client.post("/api/capsules", body)
    assert response.status_code == 201, response.json()
    return response.json()["data"]


def test_send_seal_and_the_receiver_sees_title_but_not_body(
    user_api: Any, other_api: Any, other_user: Any
) -> None:
    capsule = create(user_api, other_user)
    assert capsule["state"] == "draft"
    assert other_api.get(f"/api/capsules/{capsule['id']}").status_code == 404

    sealed = user_api.post(
        f"/api/capsules/{capsule['id']}/seal", {"scheduledUnlockAt": iso(timedelta(days=10))}
    )
    assert sealed.status_code == 200, sealed.json()
    assert sealed.json()["data"]["state"] == "sealed"

    inbox = other_api.get("/api/capsules?box=inbox").json()["data"]
    assert inbox["count"] == 1
    assert inbox["items"][0]["title"] == "To you"
    assert inbox["items"][0]["body"] is None
    outbox = user_api.get("/api/capsules?box=outbox").json()["data"]
    assert outbox["items"][0]["body"] == "Open me later"


def test_a_due_capsule_is_ready_to_the_receiver_before_the_sweep_and_opens(
    user: Any, other_user: Any, other_api: Any
) -> None:
    capsule = make_capsule(sender=user, receiver=other_user, unlock_in=timedelta(seconds=-5))
    assert capsule.state == CapsuleState.SEALED

    got = other_api.get(f"/api/capsules/{capsule.pk}").json()["data"]
    assert (got["state"], got["body"]) == ("ready", "Secret words")
    ready = other_api.get("/api/capsules?box=inbox&state=ready").json()["data"]
    assert ready["count"] == 1

    opened = other_api.post(f"/api/capsules/{capsule.pk}/open")
    assert opened.status_code == 200, opened.json()
    assert opened.json()["data"]["state"] == "opened"
    capsule.refresh_from_db()
    assert capsule.opened_at is not None
    assert capsule.events.filter(kind="ready").count() == 1


def test_unfolding_shows_the_body_only_with_early_view(
    user: Any, other_user: Any, other_api: Any
) -> None:
    hidden = make_capsule(sender=user, receiver=other_user, unlock_in=timedelta(days=1))
    shown = make_capsule(
        sender=user, receiver=other_user, unlock_in=timedelta(days=1), allow_early_view=True
    )
    assert other_api.get(f"/api/capsules/{hidden.pk}").json()["data"]["body"] is None
    got = other_api.get(f"/api/capsules/{shown.pk}").json()["data"]
    assert (got["state"], got["body"]) == ("unfolding", "Secret words")


def test_a_capsule_sealed_under_three_days_ahead_never_unfolds(
    user: Any, other_user: Any, other_api: Any
) -> None:
    capsule = make_capsule(
        sender=user, receiver=other_user, unlock_in=timedelta(days=1), sealed_ago=timedelta(0)
    )
    assert other_api.get(f"/api/capsules/{capsule.pk}").json()["data"]["state"] == "sealed"


@pytest.mark.parametrize(
    ("unlock", "code"),
    [
        ("past", "unlock_time_invalid"),
        ("30s", "unlock_time_invalid"),
        ("6y", "unlock_time_invalid"),
        ("naive", "unlock_time_needs_zone"),
    ],
)
def test_bad_unlock_times_are_422_and_leave_the_draft(
    user_api: Any, other_user: Any, unlock: str, code: str
) -> None:
    capsule = create(user_api, other_user)
    value = {
        "past": iso(timedelta(hours=-1)),
        "30s": iso(timedelta(seconds=30)),
        "6y": iso(timedelta(days=6 * 365)),
        "naive": (timezone.now() + timedelta(days=2)).replace(tzinfo=None).isoformat(),
    }[unlock]
    response = user_api.post(f"/api/capsules/{capsule['id']}/seal", {"scheduledUnlockAt": value})
    assert response.status_code == 422, response.json()
    assert response.json()["error"]["code"] == code
    assert Capsule.objects.get(pk=capsule["id"]).state == CapsuleState.DRAFT


def test_sealing_twice_and_editing_after_sealing_are_409_naming_the_state(
    user_api: Any, other_user: Any
) -> None:
    capsule = create(user_api, other_user)
    url = f"/api/capsules/{capsule['id']}"
    assert (
        user_api.post(f"{url}/seal", {"scheduledUnlockAt": iso(timedelta(days=9))}).status_code
        == 200
    )
    again = user_api.post(f"{url}/seal", {"scheduledUnlockAt": iso(timedelta(days=20))})
    assert (again.status_code, again.json()["error"]["code"]) == (409, "capsule_sealed")
    edit = user_api.patch(url, {"title": "Changed"})
    assert (edit.status_code, edit.json()["error"]["code"]) == (409, "capsule_sealed")
    delete = user_api.delete(url)
    assert delete.status_code == 409
    assert Capsule.objects.get(pk=capsule["id"]).title == "To you"


def test_opening_as_sender_or_before_ready_is_409(
    user: Any, other_user: Any, user_api: Any, other_api: Any
) -> None:
    capsule = make_capsule(sender=user, receiver=other_user)
    as_sender = user_api.post(f"/api/capsules/{capsule.pk}/open")
    assert (as_sender.status_code, as_sender.json()["error"]["code"]) == (409, "capsule_sealed")
    early = other_api.post(f"/api/capsules/{capsule.pk}/open")
    assert (early.status_code, early.json()["error"]["code"]) == (409, "capsule_sealed")
    capsule.refresh_from_db()
    assert (capsule.state, capsule.opened_at) == (CapsuleState.SEALED, None)


def test_strangers_get_404_everywhere(user: Any, other_user: Any, api: Any) -> None:
    from tessera.accounts.models import User
    from tessera.accounts.tokens import access_token_issue
    from tests.fixtures import ApiClient

    stranger = User.objects.create_user(email="eve@example.com", password="x" * 12)
    client = ApiClient(token=access_token_issue(user=stranger))
    capsule = make_capsule(sender=user, receiver=other_user, unlock_in=timedelta(seconds=-1))
    url = f"/api/capsules/{capsule.pk}"
    assert client.get(url).status_code == 404
    assert client.post(f"{url}/open").status_code == 404
    assert client.patch(url, {"title": "x"}).status_code == 404
    assert client.delete(url).status_code == 404
    assert api.get(url).status_code == 401


def test_a_receiver_that_does_not_exist_is_422(user_api: Any) -> None:
    response = user_api.post(
        "/api/capsules",
        {"title": "x", "receiverId": "00000000-0000-7000-8000-000000000000"},
    )
    assert (response.status_code, response.json()["error"]["code"]) == (422, "receiver_invalid")
    missing = user_api.post("/api/capsules", {"title": "x"})
    assert missing.status_code == 422
    assert Capsule.objects.count() == 0


def test_a_nul_character_in_a_title_is_422_and_stores_nothing(user_api: Any) -> None:
    # PostgreSQL refuses U+0000 in text: it was a 500 there.
    response = user_api.post(
        "/api/capsules", {"title": "Hello\u0000", "receiverEmail": "someone@example.com"}
    )
    assert response.status_code == 422
    assert set(response.json()["error"]["fields"]) == {"title"}
    assert user_api.post("/api/drafts", {"body": "\u0000"}).status_code == 422
    assert Capsule.objects.count() == Draft.objects.count() == 0


def test_an_invited_email_gets_the_capsule_when_they_sign_up_and_verify(
    user_api: Any,
) -> None:
    from tessera.accounts.models import User
    from tessera.accounts.tokens import access_token_issue
    from tests.fixtures import ApiClient

    response = user_api.post("/api/capsules", {"title": "Hi", "receiverEmail": "New@Example.com"})
    assert response.status_code == 201, response.json()
    capsule = response.json()["data"]
    seal = user_api.post(
        f"/api/capsules/{capsule['id']}/seal", {"scheduledUnlockAt": iso(timedelta(days=4))}
    )
    assert seal.status_code == 200
    from tessera.notifications.models import Delivery

    assert Delivery.objects.filter(recipient="new@example.com", channel="email").count() == 1

    newcomer = User.objects.create_user(email="new@example.com", password="y" * 12)
    client = ApiClient(token=access_token_issue(user=newcomer))
    assert client.get("/api/capsules").json()["data"]["count"] == 0  # not verified yet
    newcomer.email_verified_at = timezone.now()
    newcomer.save()
    inbox = client.get("/api/capsules").json()["data"]
    assert [item["id"] for item in inbox["items"]] == [capsule["id"]]


def test_reply_only_when_allowed_and_opened(user: Any, other_user: Any, other_api: Any) -> None:
    closed = make_capsule(
        sender=user, receiver=other_user, state=CapsuleState.OPENED, unlock_in=timedelta(-1)
    )
    allowed = make_capsule(
        sender=user,
        receiver=other_user,
        state=CapsuleState.OPENED,
        unlock_in=timedelta(-1),
        allow_receiver_reply=True,
    )
    refused = other_api.post(f"/api/capsules/{closed.pk}/reply", {"body": "thanks"})
    assert refused.status_code == 409
    ok = other_api.post(f"/api/capsules/{allowed.pk}/reply", {"body": "thanks"})
    assert ok.status_code == 200
    assert ok.json()["data"]["reply"] == "thanks"
    twice = other_api.post(f"/api/capsules/{allowed.pk}/reply", {"body": "again"})
    assert twice.status_code == 409


def test_drafts_and_recipients_crud_and_send(
    user_api: Any, other_api: Any, other_user: Any
) -> None:
    recipient = user_api.post(
        "/api/recipients", {"name": "Grace", "email": "grace@example.com"}
    ).json()["data"]
    assert recipient["userId"] == str(other_user.pk)
    draft = user_api.post("/api/drafts", {"title": "Later", "recipientId": recipient["id"]}).json()[
        "data"
    ]
    patched = user_api.patch(f"/api/drafts/{draft['id']}", {"body": "autosaved"})
    assert patched.json()["data"]["body"] == "autosaved"
    assert user_api.get("/api/drafts").json()["data"]["count"] == 1

    # another user's draft and recipient are 404s
    assert other_api.get(f"/api/drafts/{draft['id']}").status_code == 404
    assert other_api.patch(f"/api/recipients/{recipient['id']}", {"name": "x"}).status_code == 404
    assert (
        other_api.post(
            f"/api/drafts/{draft['id']}/send", {"scheduledUnlockAt": iso(timedelta(days=5))}
        ).status_code
        == 404
    )
    bad = user_api.post(
        f"/api/drafts/{draft['id']}/send", {"scheduledUnlockAt": iso(timedelta(seconds=10))}
    )
    assert bad.status_code == 422
    assert Draft.objects.filter(pk=draft["id"]).exists()
    assert Capsule.objects.count() == 0

    sent = user_api.post(
        f"/api/drafts/{draft['id']}/send", {"scheduledUnlockAt": iso(timedelta(days=5))}
    )
    assert sent.status_code == 201, sent.json()
    assert sent.json()["data"]["state"] == "sealed"
    assert not Draft.objects.filter(pk=draft["id"]).exists()
    assert other_api.get("/api/capsules").json()["data"]["count"] == 1

    assert user_api.delete(f"/api/recipients/{recipient['id']}").status_code == 204
    assert not Recipient.objects.exists()
    assert user_api.post("/api/recipients", {"name": "Nobody"}).status_code == 422
    assert user_api.post("/api/recipients", {"name": "B", "email": "not-mail"}).status_code == 422
