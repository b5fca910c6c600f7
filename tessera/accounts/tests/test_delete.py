"""DELETE /api/auth/me needs proof that it is the person, not an access token alone."""

from __future__ import annotations

from datetime import timedelta
from typing import Any

import pytest
from django.utils import timezone

from tessera.accounts.models import AuthSession, User
from tessera.accounts.tests.conftest import last_sms_code
from tessera.audit.models import AuditLog
from tests.fixtures import ApiClient

pytestmark = pytest.mark.django_db

PASSWORD = "correct horse battery"
NUMBER = "+27821234567"


def delete_me(client: ApiClient, body: dict[str, Any] | None = None) -> Any:
    if body is None:
        return client.delete("/api/auth/me")
    return client.delete("/api/auth/me", body, content_type="application/json")


def signed_in(api: Any, *, minutes_ago: int = 0) -> ApiClient:
    pair = api.post("/api/auth/login", {"email": "ada@example.com", "password": PASSWORD}).json()
    session_id = pair["data"]["sessionId"]
    AuthSession.objects.filter(pk=session_id).update(
        created_at=timezone.now() - timedelta(minutes=minutes_ago)
    )
    return ApiClient(token=pair["data"]["accessToken"])


def assert_still_there(user: User) -> None:
    user.refresh_from_db()
    assert user.is_active
    assert user.email == "ada@example.com"
    assert user.deleted_at is None


def test_an_access_token_alone_cannot_delete_the_account(api: Any, user: Any) -> None:
    client = signed_in(api, minutes_ago=6)  # a token from a sign-in 6 minutes ago

    response = delete_me(client)

    assert response.status_code == 403
    error = response.json()["error"]
    assert error["code"] == "reauthentication_required"
    assert "password" in error["message"]
    assert_still_there(user)


def test_a_refreshed_token_of_an_old_sign_in_is_not_enough(api: Any, user: Any) -> None:
    pair = api.post("/api/auth/login", {"email": "ada@example.com", "password": PASSWORD}).json()
    AuthSession.objects.update(created_at=timezone.now() - timedelta(hours=2))
    fresh = api.post("/api/auth/refresh", {"refreshToken": pair["data"]["refreshToken"]}).json()

    response = delete_me(ApiClient(token=fresh["data"]["accessToken"]))

    assert response.status_code == 403
    assert response.json()["error"]["code"] == "reauthentication_required"
    assert_still_there(user)


def test_the_password_confirms_the_deletion(api: Any, user: Any) -> None:
    client = signed_in(api, minutes_ago=60)

    response = delete_me(client, {"password": PASSWORD})

    assert response.status_code == 204
    user.refresh_from_db()
    assert not user.is_active
    assert user.deleted_at is not None
    entry = AuditLog.objects.get(action="account.deleted")
    assert entry.changes == {"confirmation": "password"}


def test_a_wrong_password_is_a_400_and_deletes_nothing(api: Any, user: Any) -> None:
    client = signed_in(api, minutes_ago=60)

    response = delete_me(client, {"password": "not my password"})

    assert response.status_code == 400
    assert response.json()["error"]["code"] == "wrong_password"
    assert "password" in response.json()["error"]["fields"]
    assert_still_there(user)


def test_a_sign_in_less_than_five_minutes_old_is_enough(api: Any, user: Any) -> None:
    client = signed_in(api, minutes_ago=4)

    response = delete_me(client)

    assert response.status_code == 204
    assert AuditLog.objects.get(action="account.deleted").changes == {
        "confirmation": "recent_sign_in"
    }


@pytest.fixture
def phone_user(db: Any) -> User:
    return User.objects.create_user(phone_number=NUMBER, phone_verified_at=timezone.now())


def test_a_phone_only_account_confirms_with_a_fresh_code(
    phone_user: User, run_on_commit: Any
) -> None:
    from tessera.accounts.tokens import access_token_issue

    client = ApiClient(token=access_token_issue(user=phone_user))
    assert delete_me(client).status_code == 403
    with run_on_commit():
        sent = client.post("/api/auth/me/delete/code")
    assert sent.status_code == 200
    assert sent.json()["data"]["phoneNumber"] == NUMBER
    code = last_sms_code(NUMBER)

    wrong = delete_me(client, {"otpCode": "000000" if code != "000000" else "111111"})
    assert wrong.status_code == 400
    assert wrong.json()["error"]["code"] == "otp_invalid"
    response = delete_me(client, {"otpCode": code})

    assert response.status_code == 204
    phone_user.refresh_from_db()
    assert phone_user.phone_number is None
    assert not phone_user.is_active
    assert AuditLog.objects.get(action="account.deleted").changes == {"confirmation": "otp"}


def test_a_deletion_code_is_single_use_and_only_for_deleting(
    phone_user: User, run_on_commit: Any, api: Any
) -> None:
    from tessera.accounts.tokens import access_token_issue

    client = ApiClient(token=access_token_issue(user=phone_user))
    with run_on_commit():
        client.post("/api/auth/me/delete/code")
    code = last_sms_code(NUMBER)

    # Not a login code…
    login = api.post("/api/auth/verify-login", {"phoneNumber": NUMBER, "otpCode": code})
    assert login.status_code == 400
    # …and another account's deletion is not confirmed by it.
    other = User.objects.create_user(email="x@example.com", password=PASSWORD)
    other_client = ApiClient(token=access_token_issue(user=other))
    assert delete_me(other_client, {"otpCode": code}).status_code == 400
    assert User.objects.get(pk=other.pk).is_active


def test_asking_for_a_code_without_a_verified_number_is_a_409(user_api: Any) -> None:
    response = user_api.post("/api/auth/me/delete/code")

    assert response.status_code == 409
    assert response.json()["error"]["code"] == "no_verified_phone_number"


@pytest.mark.parametrize(
    "body",
    [{"password": ""}, {"otpCode": "1" * 13}, {"password": "x" * 257}, {"otpCode": 123456}],
)
def test_a_malformed_confirmation_is_a_422(api: Any, user: Any, body: dict[str, Any]) -> None:
    client = signed_in(api, minutes_ago=4)

    response = delete_me(client, body)

    assert response.status_code == 422, response.json()
    assert_still_there(user)
