"""Phone sign-up and login with SMS codes (Loopin), through the HTTP API."""

from __future__ import annotations

from datetime import timedelta
from typing import Any

import pytest
from django.utils import timezone

from tessera.accounts.models import AuthSession, User, VerificationCode
from tessera.accounts.tests.conftest import last_sms_code
from tessera.audit.models import AuditLog

pytestmark = pytest.mark.django_db

NUMBER = "+27821234567"


def send_signup(api: Any, run_on_commit: Any, number: str = NUMBER, **extra: Any) -> Any:
    with run_on_commit():
        return api.post("/api/auth/signup", {"phoneNumber": number}, **extra)


def test_signup_sends_a_code_and_verify_otp_creates_the_account(
    api: Any, run_on_commit: Any, sms_outbox: list[Any]
) -> None:
    response = send_signup(api, run_on_commit)

    assert response.status_code == 200
    assert response.json()["data"] == {
        "detail": "If the number can receive it, a code is on its way by SMS.",
        "phoneNumber": NUMBER,
        "expiresIn": 600,
        "resendIn": 60,
        "codeLength": 6,
    }
    assert [message.to for message in sms_outbox] == [NUMBER]
    code = last_sms_code(NUMBER)
    assert len(code) == 6

    verified = api.post("/api/auth/verify-otp", {"phoneNumber": NUMBER, "otpCode": code})

    assert verified.status_code == 200
    data = verified.json()["data"]
    assert data["needsProfileCompletion"] is True
    assert data["tokenType"] == "Bearer"
    assert data["expiresIn"] == 900
    assert data["refreshExpiresIn"] == 7 * 24 * 3600
    assert data["user"]["phoneNumber"] == NUMBER
    assert data["user"]["phoneVerified"] is True
    user = User.objects.get(phone_number=NUMBER)
    assert str(user.pk) == data["user"]["id"]
    me = api.get("/api/auth/me", HTTP_AUTHORIZATION=f"Bearer {data['accessToken']}")
    assert me.status_code == 200
    assert me.json()["data"]["id"] == str(user.pk)


def test_numbers_are_normalised_to_e164(api: Any, run_on_commit: Any) -> None:
    response = send_signup(api, run_on_commit, number="+27 82 123 4567")

    assert response.json()["data"]["phoneNumber"] == NUMBER
    code = last_sms_code(NUMBER)
    verified = api.post(
        "/api/auth/verify-otp", {"phone_number": "+27-82-123-4567", "otp_code": code}
    )
    assert verified.status_code == 200
    assert verified.json()["data"]["user"]["phoneNumber"] == NUMBER


@pytest.mark.parametrize(
    "number", ["0821234567", "+999123", "not a number", "+2782123456789012345", "+27 82"]
)
def test_a_phone_number_in_a_wrong_format_is_a_422(api: Any, number: str) -> None:
    response = api.post("/api/auth/signup", {"phoneNumber": number})

    assert response.status_code == 422
    error = response.json()["error"]
    assert error["code"] == "invalid_phone_number"
    assert set(error["fields"]) == {"phoneNumber"}
    assert not VerificationCode.objects.exists()


def test_codes_are_stored_hashed(api: Any, run_on_commit: Any) -> None:
    send_signup(api, run_on_commit)
    code = last_sms_code(NUMBER)

    record = VerificationCode.objects.get(target=NUMBER)
    assert code not in record.code_hash
    assert len(record.code_hash) == 64
    assert round((record.expires_at - record.created_at).total_seconds()) == 600


def test_code_length_is_configurable(api: Any, run_on_commit: Any, settings: Any) -> None:
    settings.AUTH_OTP_LENGTH = 4

    response = send_signup(api, run_on_commit)

    assert response.json()["data"]["codeLength"] == 4
    assert len(last_sms_code(NUMBER)) == 4


def test_a_code_dies_on_first_success(api: Any, run_on_commit: Any) -> None:
    send_signup(api, run_on_commit)
    code = last_sms_code(NUMBER)
    assert (
        api.post("/api/auth/verify-otp", {"phoneNumber": NUMBER, "otpCode": code}).status_code
        == 200
    )

    again = api.post("/api/auth/verify-otp", {"phoneNumber": NUMBER, "otpCode": code})

    assert again.status_code == 400
    assert again.json()["error"]["code"] == "otp_invalid"
    assert AuthSession.objects.count() == 1


def test_a_guessed_code_burns_after_three_wrong_tries(api: Any, run_on_commit: Any) -> None:
    send_signup(api, run_on_commit)
    code = last_sms_code(NUMBER)
    wrong = "000000" if code != "000000" else "111111"

    first = api.post("/api/auth/verify-otp", {"phoneNumber": NUMBER, "otpCode": wrong})
    second = api.post("/api/auth/verify-otp", {"phoneNumber": NUMBER, "otpCode": wrong})
    third = api.post("/api/auth/verify-otp", {"phoneNumber": NUMBER, "otpCode": wrong})
    fourth = api.post("/api/auth/verify-otp", {"phoneNumber": NUMBER, "otpCode": code})

    assert [r.status_code for r in (first, second, third, fourth)] == [400, 400, 400, 400]
    assert [r.json()["error"]["code"] for r in (first, second, third, fourth)] == [
        "otp_invalid",
        "otp_invalid",
        "otp_attempts_exceeded",
        "otp_invalid",
    ]
    record = VerificationCode.objects.get(target=NUMBER)
    assert record.state == VerificationCode.State.BURNED
    assert record.attempts == 3
    assert not User.objects.filter(phone_number=NUMBER).exists()
    assert not AuthSession.objects.exists()
    assert AuditLog.objects.filter(action="auth.otp.failed").count() == 4


def test_a_code_for_another_number_is_refused(api: Any, run_on_commit: Any) -> None:
    other = "+27821234568"
    send_signup(api, run_on_commit)
    code = last_sms_code(NUMBER)

    response = api.post("/api/auth/verify-otp", {"phoneNumber": other, "otpCode": code})

    assert response.status_code == 400
    assert response.json()["error"]["code"] == "otp_invalid"
    assert not User.objects.exists()
    # The real owner's code still works.
    assert (
        api.post("/api/auth/verify-otp", {"phoneNumber": NUMBER, "otpCode": code}).status_code
        == 200
    )


def test_an_expired_code_is_refused(api: Any, run_on_commit: Any) -> None:
    send_signup(api, run_on_commit)
    code = last_sms_code(NUMBER)
    VerificationCode.objects.update(expires_at=timezone.now() - timedelta(seconds=1))

    response = api.post("/api/auth/verify-otp", {"phoneNumber": NUMBER, "otpCode": code})

    assert response.status_code == 400
    assert response.json()["error"]["code"] == "otp_invalid"


def test_one_resend_per_minute(api: Any, run_on_commit: Any, sms_outbox: list[Any]) -> None:
    send_signup(api, run_on_commit)

    again = send_signup(api, run_on_commit)

    assert again.status_code == 429
    assert again.json()["error"]["code"] == "otp_resend_too_soon"
    assert 1 <= int(again["Retry-After"]) <= 60
    assert len(sms_outbox) == 1


def test_a_resent_code_replaces_the_earlier_one(api: Any, run_on_commit: Any) -> None:
    send_signup(api, run_on_commit)
    first_code = last_sms_code(NUMBER)
    VerificationCode.objects.update(created_at=timezone.now() - timedelta(seconds=61))
    send_signup(api, run_on_commit)
    second_code = last_sms_code(NUMBER)

    if first_code != second_code:
        stale = api.post("/api/auth/verify-otp", {"phoneNumber": NUMBER, "otpCode": first_code})
        assert stale.status_code == 400
    fresh = api.post("/api/auth/verify-otp", {"phoneNumber": NUMBER, "otpCode": second_code})
    assert fresh.status_code == 200


def test_at_most_five_codes_per_number_per_hour(
    api: Any, run_on_commit: Any, sms_outbox: list[Any]
) -> None:
    for minutes_ago in (50, 40, 30, 20, 10):
        assert send_signup(api, run_on_commit).status_code == 200
        VerificationCode.objects.filter(
            created_at__gt=timezone.now() - timedelta(seconds=5)
        ).update(created_at=timezone.now() - timedelta(minutes=minutes_ago))

    sixth = send_signup(api, run_on_commit)

    assert sixth.status_code == 429
    assert sixth.json()["error"]["code"] == "otp_limit_reached"
    # The oldest of the five leaves the hour in 10 minutes.
    assert 590 <= int(sixth["Retry-After"]) <= 601
    assert len(sms_outbox) == 5


def test_codes_per_address_are_capped(api: Any, run_on_commit: Any, settings: Any) -> None:
    settings.AUTH_OTP_IP_RATE = "2/hour"
    assert send_signup(api, run_on_commit, number="+27821234561").status_code == 200
    assert send_signup(api, run_on_commit, number="+27821234562").status_code == 200

    third = send_signup(api, run_on_commit, number="+27821234563")

    assert third.status_code == 429
    assert third.json()["error"]["code"] == "rate_limited"
    assert "Retry-After" in third


def test_phone_login_sends_a_code_to_an_existing_account(
    api: Any, run_on_commit: Any, sms_outbox: list[Any]
) -> None:
    user = User.objects.create_user(phone_number=NUMBER, language="ar")
    with run_on_commit():
        response = api.post("/api/auth/login", {"phoneNumber": NUMBER})

    assert response.status_code == 200
    assert response.json()["data"]["phoneNumber"] == NUMBER
    assert "تيسيرا" in sms_outbox[-1].body  # the account's language
    code = last_sms_code(NUMBER)

    verified = api.post("/api/auth/verify-login", {"phoneNumber": NUMBER, "otpCode": code})

    assert verified.status_code == 200
    assert verified.json()["data"]["user"]["id"] == str(user.pk)
    assert AuthSession.objects.get().method == "phone_login"


def test_phone_login_does_not_reveal_whether_a_number_has_an_account(
    api: Any, run_on_commit: Any, sms_outbox: list[Any]
) -> None:
    User.objects.create_user(phone_number=NUMBER)
    with run_on_commit():
        known = api.post("/api/auth/login", {"phoneNumber": NUMBER})
        unknown = api.post("/api/auth/login", {"phoneNumber": "+27821234569"})

    assert known.status_code == unknown.status_code == 200
    assert {k: v for k, v in known.json()["data"].items() if k != "phoneNumber"} == {
        k: v for k, v in unknown.json()["data"].items() if k != "phoneNumber"
    }
    # Nothing is sent to a number without an account, and no code for it can work.
    assert [message.to for message in sms_outbox] == [NUMBER]
    for guess in ("000000", "123456", "999999"):
        response = api.post(
            "/api/auth/verify-login", {"phoneNumber": "+27821234569", "otpCode": guess}
        )
        assert response.status_code == 400
    assert not User.objects.filter(phone_number="+27821234569").exists()
    # Its resend limit behaves like a real number's.
    with run_on_commit():
        again = api.post("/api/auth/login", {"phoneNumber": "+27821234569"})
    assert again.status_code == 429


def test_a_signup_code_is_not_a_login_code(api: Any, run_on_commit: Any) -> None:
    send_signup(api, run_on_commit)
    code = last_sms_code(NUMBER)

    response = api.post("/api/auth/verify-login", {"phoneNumber": NUMBER, "otpCode": code})

    assert response.status_code == 400
    assert not User.objects.exists()


def test_signup_for_a_number_with_an_account_logs_into_it(api: Any, run_on_commit: Any) -> None:
    user = User.objects.create_user(phone_number=NUMBER, name="Lindiwe")
    send_signup(api, run_on_commit)

    verified = api.post(
        "/api/auth/verify-otp", {"phoneNumber": NUMBER, "otpCode": last_sms_code(NUMBER)}
    )

    assert verified.json()["data"]["user"]["id"] == str(user.pk)
    assert User.objects.count() == 1


def test_otp_sends_and_logins_are_in_the_audit_log(api: Any, run_on_commit: Any) -> None:
    send_signup(api, run_on_commit, HTTP_USER_AGENT="LoopinApp/2.1")
    api.post("/api/auth/verify-otp", {"phoneNumber": NUMBER, "otpCode": last_sms_code(NUMBER)})

    sent = AuditLog.objects.get(action="auth.otp.sent")
    assert sent.changes == {"purpose": "phone_signup", "phone": "+2782*****67", "delivered": True}
    assert sent.ip_address == "127.0.0.1"
    assert sent.user_agent == "LoopinApp/2.1"
    login = AuditLog.objects.get(action="auth.login.succeeded")
    assert login.changes["method"] == "phone_signup"
    assert login.actor_id == User.objects.get().pk
