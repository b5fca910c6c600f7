"""Email and password: register, verify, log in, lock-out, forgot/reset, change."""

from __future__ import annotations

import re
from datetime import timedelta
from typing import Any

import pytest
from django.core import mail
from django.utils import timezone

from tessera.accounts.models import AuthSession, User, VerificationCode
from tessera.accounts.tests.conftest import last_email
from tessera.audit.models import AuditLog
from tests.fixtures import ApiClient

pytestmark = pytest.mark.django_db

PASSWORD = "correct horse battery"


def register(api: Any, run_on_commit: Any, **body: Any) -> Any:
    payload = {"email": "lin@example.com", "password": "a long enough pass 7", "name": "Lin"}
    payload.update(body)
    with run_on_commit():
        return api.post("/api/auth/register", payload)


def login(api: Any, email: str = "ada@example.com", password: str = PASSWORD, **extra: Any) -> Any:
    return api.post("/api/auth/login", {"email": email, "password": password}, **extra)


def test_register_creates_the_account_and_emails_a_verification_code(
    api: Any, run_on_commit: Any
) -> None:
    response = register(api, run_on_commit)

    assert response.status_code == 202
    assert response.json()["data"] == {
        "detail": "Check your inbox: we sent a code to verify the address. Then log in."
    }
    user = User.objects.get(email="lin@example.com")
    assert user.name == "Lin"
    assert user.check_password("a long enough pass 7")
    assert user.email_verified_at is None
    message = last_email("lin@example.com")
    assert message.subject == "Verify your Tessera email address"
    code = re.search(r"code is (\d{6})", message.body).group(1)  # type: ignore[union-attr]
    assert f"verify-email?email=lin%40example.com&code={code}" in message.body

    verified = api.post("/api/auth/verify-email", {"email": "lin@example.com", "code": code})

    assert verified.status_code == 200
    assert verified.json()["data"] == {"email": "lin@example.com", "emailVerified": True}
    user.refresh_from_db()
    assert user.email_verified_at is not None
    # Single use.
    again = api.post("/api/auth/verify-email", {"email": "lin@example.com", "code": code})
    assert again.status_code == 400
    assert again.json()["error"]["code"] == "invalid_verification_code"


def test_registering_an_existing_email_answers_the_same_and_tells_the_owner(
    api: Any, run_on_commit: Any, user: Any
) -> None:
    fresh = register(api, run_on_commit, email="new@example.com")
    taken = register(api, run_on_commit, email="ADA@example.com")

    assert fresh.status_code == taken.status_code == 202
    assert fresh.json()["data"] == taken.json()["data"]
    assert fresh.json()["message"] == taken.json()["message"]
    assert User.objects.filter(email__iexact="ada@example.com").count() == 1
    user.refresh_from_db()
    assert user.check_password(PASSWORD)  # untouched
    notice = last_email("ada@example.com")
    assert notice.subject == "Someone tried to register with your email address"
    assert AuditLog.objects.filter(
        action="auth.register.duplicate", target_id=str(user.pk)
    ).exists()


def test_registration_checks_password_strength(api: Any, run_on_commit: Any) -> None:
    response = register(api, run_on_commit, password="12345678")

    assert response.status_code == 422
    error = response.json()["error"]
    assert error["code"] == "weak_password"
    assert "password" in error["fields"]
    assert not User.objects.exists()
    assert mail.outbox == []


@pytest.mark.parametrize(
    ("body", "field"),
    [
        ({"email": "not-an-email"}, "email"),
        ({"email": "a" * 255 + "@example.com"}, "email"),
        ({"password": "p" * 257}, "password"),
        ({"name": ""}, "name"),
        ({"name": "n" * 101}, "name"),
    ],
)
def test_registration_rejects_bad_fields(
    api: Any, run_on_commit: Any, body: dict[str, Any], field: str
) -> None:
    response = register(api, run_on_commit, **body)

    assert response.status_code == 422
    assert field in response.json()["error"]["fields"]
    assert not User.objects.exists()


def test_registration_is_limited_to_three_an_hour_per_address(api: Any, run_on_commit: Any) -> None:
    for index in range(3):
        assert register(api, run_on_commit, email=f"u{index}@example.com").status_code == 202

    fourth = register(api, run_on_commit, email="u4@example.com")

    assert fourth.status_code == 429
    assert not User.objects.filter(email="u4@example.com").exists()


def test_login_with_email_and_password(api: Any, user: Any) -> None:
    response = login(api, email="ADA@Example.com", HTTP_USER_AGENT="Wallet/1.0 (iPhone)")

    assert response.status_code == 200
    data = response.json()["data"]
    assert data["user"]["email"] == "ada@example.com"
    session = AuthSession.objects.get(user=user)
    assert str(session.pk) == data["sessionId"]
    assert session.device == "Wallet/1.0 (iPhone)"
    assert session.method == "password"
    assert AuditLog.objects.filter(action="auth.login.succeeded", actor=user).count() == 1


@pytest.mark.parametrize("email", ["ada@example.com", "nobody@example.com"])
def test_a_failed_login_says_nothing_about_the_account(api: Any, user: Any, email: str) -> None:
    response = login(api, email=email, password="wrong password")

    assert response.status_code == 401
    assert response.json()["error"]["code"] == "invalid_credentials"
    assert response.json()["error"]["message"] == "The email address or password is wrong."
    assert AuditLog.objects.filter(action="auth.login.failed").count() == 1


def test_login_is_limited_to_five_per_fifteen_minutes_per_address(api: Any, user: Any) -> None:
    for _ in range(5):
        assert login(api).status_code == 200

    sixth = login(api)

    assert sixth.status_code == 429
    assert sixth.json()["error"]["code"] == "rate_limited"
    assert "Retry-After" in sixth


def test_a_successful_login_upgrades_an_outdated_hash(api: Any, settings: Any) -> None:
    settings.PASSWORD_HASHERS = [
        "django.contrib.auth.hashers.MD5PasswordHasher",
        "django.contrib.auth.hashers.PBKDF2PasswordHasher",
    ]
    from django.contrib.auth.hashers import make_password

    user = User.objects.create_user(email="old@example.com")
    User.objects.filter(pk=user.pk).update(password=make_password(PASSWORD, hasher="pbkdf2_sha256"))

    assert login(api, email="old@example.com").status_code == 200

    user.refresh_from_db()
    assert user.password.startswith("md5$")


def reset_token(email: str) -> str:
    message = last_email(email)
    match = re.search(r"reset-password\?token=([\w-]+)", message.body)
    assert match, message.body
    return match.group(1)


def test_forgot_and_reset_password(api: Any, user: Any, run_on_commit: Any) -> None:
    first_session = login(api).json()["data"]
    with run_on_commit():
        forgot = api.post("/api/auth/password/forgot", {"email": "ada@example.com"})
    assert forgot.status_code == 202
    token = reset_token("ada@example.com")
    assert not VerificationCode.objects.filter(code_hash__contains=token).exists()

    reset = api.post(
        "/api/auth/password/reset", {"token": token, "newPassword": "brand new secret 42"}
    )

    assert reset.status_code == 200
    user.refresh_from_db()
    assert user.check_password("brand new secret 42")
    assert not AuthSession.objects.filter(revoked_at__isnull=True).exists()
    me = api.get("/api/auth/me", HTTP_AUTHORIZATION=f"Bearer {first_session['accessToken']}")
    assert me.status_code == 401
    assert AuditLog.objects.filter(action="auth.password.reset", actor=user).exists()


def test_a_reset_token_works_once(api: Any, user: Any, run_on_commit: Any) -> None:
    with run_on_commit():
        api.post("/api/auth/password/forgot", {"email": "ada@example.com"})
    token = reset_token("ada@example.com")
    assert (
        api.post(
            "/api/auth/password/reset", {"token": token, "newPassword": "brand new secret 42"}
        ).status_code
        == 200
    )

    again = api.post(
        "/api/auth/password/reset", {"token": token, "newPassword": "another secret 43"}
    )

    assert again.status_code == 400
    assert again.json()["error"]["code"] == "invalid_reset_token"
    user.refresh_from_db()
    assert user.check_password("brand new secret 42")


def test_a_reset_token_expires_after_an_hour(api: Any, user: Any, run_on_commit: Any) -> None:
    with run_on_commit():
        api.post("/api/auth/password/forgot", {"email": "ada@example.com"})
    token = reset_token("ada@example.com")
    record = VerificationCode.objects.get(purpose="password_reset")
    assert round((record.expires_at - record.created_at).total_seconds()) == 3600
    VerificationCode.objects.update(expires_at=timezone.now() - timedelta(seconds=1))

    response = api.post(
        "/api/auth/password/reset", {"token": token, "newPassword": "brand new secret 42"}
    )

    assert response.status_code == 400
    assert response.json()["error"]["code"] == "invalid_reset_token"


def test_a_weak_new_password_leaves_the_reset_token_usable(
    api: Any, user: Any, run_on_commit: Any
) -> None:
    with run_on_commit():
        api.post("/api/auth/password/forgot", {"email": "ada@example.com"})
    token = reset_token("ada@example.com")

    weak = api.post("/api/auth/password/reset", {"token": token, "newPassword": "password"})

    assert weak.status_code == 422
    assert "newPassword" in weak.json()["error"]["fields"]
    assert VerificationCode.objects.get(purpose="password_reset").state == "active"
    assert (
        api.post(
            "/api/auth/password/reset", {"token": token, "newPassword": "brand new secret 42"}
        ).status_code
        == 200
    )


def test_forgot_password_answers_the_same_for_unknown_addresses(
    api: Any, user: Any, run_on_commit: Any
) -> None:
    with run_on_commit():
        known = api.post("/api/auth/password/forgot", {"email": "ada@example.com"})
        unknown = api.post("/api/auth/password/forgot", {"email": "nobody@example.com"})

    assert known.status_code == unknown.status_code == 202
    assert known.json()["data"] == unknown.json()["data"]
    assert [message.to for message in mail.outbox] == [["ada@example.com"]]
    # The background task audits for the request that asked.
    entry = AuditLog.objects.get(action="auth.password.reset_requested")
    assert entry.actor_id == user.pk
    assert entry.ip_address == "127.0.0.1"
    assert entry.request_id == known["X-Request-ID"]


def test_change_password_ends_every_other_session(api: Any, user: Any) -> None:
    here = login(api).json()["data"]
    elsewhere = login(ApiClient(REMOTE_ADDR="10.2.2.2")).json()["data"]
    client = ApiClient(token=here["accessToken"])

    response = client.post(
        "/api/auth/password/change",
        {"currentPassword": PASSWORD, "newPassword": "a fresh passphrase 9"},
    )

    assert response.status_code == 200
    assert client.get("/api/auth/me").status_code == 200
    assert ApiClient(token=elsewhere["accessToken"]).get("/api/auth/me").status_code == 401
    refreshed = api.post("/api/auth/refresh", {"refreshToken": elsewhere["refreshToken"]})
    assert refreshed.status_code == 401
    user.refresh_from_db()
    assert user.check_password("a fresh passphrase 9")


def test_change_password_needs_the_current_one(api: Any, user: Any, user_api: Any) -> None:
    response = user_api.post(
        "/api/auth/password/change",
        {"currentPassword": "not it", "newPassword": "a fresh passphrase 9"},
    )

    assert response.status_code == 400
    assert response.json()["error"]["code"] == "wrong_password"
    user.refresh_from_db()
    assert user.check_password(PASSWORD)


def test_change_password_needs_a_token(api: Any) -> None:
    response = api.post(
        "/api/auth/password/change", {"currentPassword": "x", "newPassword": "a fresh passphrase 9"}
    )

    assert response.status_code == 401
    assert response.json()["error"]["code"] == "not_authenticated"


@pytest.mark.parametrize("language", ["en", "ar"])
@pytest.mark.parametrize(
    "key", ["auth.email_verification", "auth.password_reset", "auth.register_existing"]
)
def test_sign_in_email_templates_exist_in_both_languages(key: str, language: str) -> None:
    from tessera.notifications.selectors import template_render

    rendered = template_render(
        key=key,
        channel="email",
        language=language,
        context={"code": "123456", "link": "https://x.example/l", "token": "t", "name": "Ada"},
    )

    assert rendered.language == language
    assert "https://x.example/l" in rendered.body
    assert "{" not in rendered.subject + rendered.body
    has_arabic = any("\u0600" <= char <= "\u06ff" for char in rendered.subject + rendered.body)
    assert has_arabic is (language == "ar")
