"""Changing the email address or phone number of an account: proven by a code sent to the new
one before anything changes, through the HTTP API."""

from __future__ import annotations

import re
from datetime import timedelta
from typing import Any

import pytest
from django.core import mail
from django.utils import timezone

from tessera.accounts.models import User, VerificationCode
from tessera.accounts.tests.conftest import last_email, last_sms_code
from tessera.accounts.tokens import access_token_issue
from tessera.audit.models import AuditLog
from tessera.notifications.models import Notification
from tests.fixtures import ApiClient

pytestmark = pytest.mark.django_db

PASSWORD = "correct horse battery"
NEW_EMAIL = "Ada.Lovelace@Example.org"
NUMBER = "+27821234567"
NEW_NUMBER = "+27829876543"

SAME_EMAIL_REPLY = {
    "detail": (
        "If the address can receive it, a code is on its way. Your address changes once you "
        "confirm it."
    ),
    "email": "Ada.Lovelace@example.org",
    "expiresIn": 24 * 3600,
    "resendIn": 60,
    "codeLength": 6,
}


def ask_email(
    client: Any, run_on_commit: Any, email: str = NEW_EMAIL, password: str | None = PASSWORD
) -> Any:
    body: dict[str, Any] = {"email": email}
    if password is not None:
        body["currentPassword"] = password
    with run_on_commit():
        return client.post("/api/auth/me/email", body)


def emailed_code(to: str) -> str:
    match = re.search(r"Your code is (\d{6})", last_email(to).body)
    assert match, last_email(to).body
    return match.group(1)


def confirm_email(client: Any, run_on_commit: Any, code: str, email: str = NEW_EMAIL) -> Any:
    with run_on_commit():
        return client.post("/api/auth/me/email/confirm", {"email": email, "code": code})


def ask_phone(
    client: Any, run_on_commit: Any, number: str = NEW_NUMBER, password: str | None = None
) -> Any:
    body: dict[str, Any] = {"phoneNumber": number}
    if password is not None:
        body["currentPassword"] = password
    with run_on_commit():
        return client.post("/api/auth/me/phone", body)


def confirm_phone(client: Any, run_on_commit: Any, code: str, number: str = NEW_NUMBER) -> Any:
    with run_on_commit():
        return client.post("/api/auth/me/phone/confirm", {"phoneNumber": number, "otpCode": code})


@pytest.fixture
def phone_user(db: Any) -> User:
    return User.objects.create_user(phone_number=NUMBER, name="Lin", phone_verified_at=None)


@pytest.fixture
def phone_api(phone_user: User) -> ApiClient:
    return ApiClient(token=access_token_issue(user=phone_user))


def error_of(response: Any) -> tuple[int, str]:
    return response.status_code, response.json()["error"]["code"]


# --- Email --------------------------------------------------------------------------------


def test_an_email_change_applies_only_once_the_new_address_is_confirmed(
    user: Any, user_api: Any, run_on_commit: Any
) -> None:
    asked = ask_email(user_api, run_on_commit)

    assert asked.status_code == 202
    assert asked.json()["data"] == SAME_EMAIL_REPLY
    user.refresh_from_db()
    assert user.email == "ada@example.com"  # nothing changed yet
    message = last_email("Ada.Lovelace@example.org")
    assert message.subject == "Confirm your new Tessera email address"
    code = emailed_code("Ada.Lovelace@example.org")
    assert "confirm-email-change?email=Ada.Lovelace%40example.org&code=" + code in message.body
    record = VerificationCode.objects.get(purpose="email_change")
    assert (record.target, record.user_id) == ("ada.lovelace@example.org", user.pk)
    assert code not in record.code_hash  # stored hashed
    assert user_api.get("/api/auth/me").json()["data"]["email"] == "ada@example.com"

    confirmed = confirm_email(user_api, run_on_commit, code)

    assert confirmed.status_code == 200
    data = confirmed.json()["data"]
    assert (data["email"], data["emailVerified"]) == ("Ada.Lovelace@example.org", True)
    user.refresh_from_db()
    assert user.email == "Ada.Lovelace@example.org"
    assert user.email_verified_at is not None
    # The authentication cache held the old copy of the user: it is gone.
    assert user_api.get("/api/auth/me").json()["data"]["email"] == "Ada.Lovelace@example.org"
    alert = last_email("ada@example.com")
    assert alert.subject == "Security alert on your Tessera account"
    assert "Your email address was changed to A***@example.org" in alert.body
    assert Notification.objects.filter(user=user, kind="security.alert").count() == 1
    entry = AuditLog.objects.get(action="account.email.changed")
    assert entry.target_id == str(user.pk)
    assert entry.changes == {"from": "a***@example.com", "to": "a***@example.org"}
    # The new address signs in; the old one no longer does.
    fresh = ApiClient()
    login = fresh.post(
        "/api/auth/login", {"email": "ada.lovelace@example.org", "password": PASSWORD}
    )
    assert login.status_code == 200
    old = fresh.post("/api/auth/login", {"email": "ada@example.com", "password": PASSWORD})
    assert old.status_code == 401


def test_an_email_code_works_once(user: Any, user_api: Any, run_on_commit: Any) -> None:
    ask_email(user_api, run_on_commit)
    code = emailed_code("Ada.Lovelace@example.org")
    assert confirm_email(user_api, run_on_commit, code).status_code == 200

    again = confirm_email(user_api, run_on_commit, code)

    assert error_of(again) == (400, "invalid_verification_code")
    assert AuditLog.objects.filter(action="account.email.changed").count() == 1


def test_a_wrong_email_code_changes_nothing_and_the_third_burns_the_code(
    user: Any, user_api: Any, run_on_commit: Any
) -> None:
    ask_email(user_api, run_on_commit)
    code = emailed_code("Ada.Lovelace@example.org")
    wrong = "000000" if code != "000000" else "111111"

    for _try in range(3):
        response = confirm_email(user_api, run_on_commit, wrong)
        assert error_of(response) == (400, "invalid_verification_code")

    assert error_of(confirm_email(user_api, run_on_commit, code)) == (
        400,
        "invalid_verification_code",
    )
    user.refresh_from_db()
    assert (user.email, user.email_verified_at) == ("ada@example.com", None)
    assert VerificationCode.objects.get(purpose="email_change").state == "burned"
    assert AuditLog.objects.filter(action="account.email_change.failed").count() == 4


def test_an_expired_email_code_is_refused(user: Any, user_api: Any, run_on_commit: Any) -> None:
    ask_email(user_api, run_on_commit)
    code = emailed_code("Ada.Lovelace@example.org")
    VerificationCode.objects.filter(purpose="email_change").update(
        expires_at=timezone.now() - timedelta(seconds=1)
    )

    response = confirm_email(user_api, run_on_commit, code)

    assert error_of(response) == (400, "invalid_verification_code")
    user.refresh_from_db()
    assert user.email == "ada@example.com"


def test_a_code_for_another_user_neither_works_nor_burns_theirs(
    user: Any, user_api: Any, other_user: Any, other_api: Any, run_on_commit: Any
) -> None:
    ask_email(user_api, run_on_commit)
    code = emailed_code("Ada.Lovelace@example.org")

    for _try in range(3):
        stolen = confirm_email(other_api, run_on_commit, code)
        assert error_of(stolen) == (400, "invalid_verification_code")

    other_user.refresh_from_db()
    assert other_user.email == "grace@example.com"
    assert confirm_email(user_api, run_on_commit, code).status_code == 200


def test_a_taken_address_gets_the_same_reply_and_never_a_code(
    user: Any, user_api: Any, other_user: Any, run_on_commit: Any
) -> None:
    free = ask_email(user_api, run_on_commit, email="free@example.org")
    VerificationCode.objects.all().delete()
    mail.outbox.clear()

    taken = ask_email(user_api, run_on_commit, email="Grace@Example.com")

    assert free.status_code == taken.status_code == 202
    free_data, taken_data = free.json()["data"], taken.json()["data"]
    assert {**free_data, "email": ""} == {**taken_data, "email": ""}
    assert free.json()["message"] == taken.json()["message"]
    assert mail.outbox == []  # nothing to the taken address (nor anywhere)
    record = VerificationCode.objects.get(purpose="email_change")
    assert record.delivered is False
    for guess in ("000000", "123456"):
        response = confirm_email(user_api, run_on_commit, guess, email="grace@example.com")
        assert error_of(response) == (400, "invalid_verification_code")
    user.refresh_from_db()
    other_user.refresh_from_db()
    assert (user.email, other_user.email) == ("ada@example.com", "grace@example.com")


def test_an_address_taken_between_request_and_confirmation_is_never_applied(
    user: Any, user_api: Any, run_on_commit: Any
) -> None:
    ask_email(user_api, run_on_commit)
    code = emailed_code("Ada.Lovelace@example.org")
    User.objects.create_user(email="ada.lovelace@EXAMPLE.org", password="x" * 12)

    response = confirm_email(user_api, run_on_commit, code)

    assert error_of(response) == (409, "email_taken")
    user.refresh_from_db()
    assert (user.email, user.email_verified_at) == ("ada@example.com", None)
    assert not AuditLog.objects.filter(action="account.email.changed").exists()
    assert User.objects.filter(email__iexact="ada.lovelace@example.org").count() == 1


@pytest.mark.parametrize(
    ("password", "expected"),
    [
        (None, (422, "password_required")),
        ("", (422, "password_required")),
        ("wrong", (400, "wrong_password")),
    ],
)
def test_an_email_change_needs_the_current_password(
    user_api: Any, run_on_commit: Any, password: str | None, expected: tuple[int, str]
) -> None:
    response = ask_email(user_api, run_on_commit, password=password)

    assert error_of(response) == expected
    assert set(response.json()["error"]["fields"]) == {"currentPassword"}
    assert mail.outbox == []
    assert not VerificationCode.objects.exists()


def test_an_account_without_a_password_changes_its_email_without_one(
    phone_user: User, phone_api: Any, run_on_commit: Any
) -> None:
    asked = ask_email(phone_api, run_on_commit, email="lin@example.org", password=None)
    assert asked.status_code == 202
    code = emailed_code("lin@example.org")

    confirmed = confirm_email(phone_api, run_on_commit, code, email="lin@example.org")

    assert confirmed.status_code == 200
    phone_user.refresh_from_db()
    assert (phone_user.email, phone_user.phone_number) == ("lin@example.org", NUMBER)
    # No old address to tell: the alert is in the app only.
    assert [m.to for m in mail.outbox] == [["lin@example.org"]]
    assert Notification.objects.filter(user=phone_user, kind="security.alert").count() == 1


@pytest.mark.parametrize(
    ("body", "code", "field"),
    [
        ({"email": "not-an-email"}, "invalid_email", "email"),
        ({"email": "a" * 250 + "@example.com"}, "validation_error", "email"),
        ({"email": "ADA@example.com"}, "address_unchanged", "email"),
        ({}, "validation_error", "email"),
        ({"currentPassword": "p" * 257}, "validation_error", "currentPassword"),
    ],
)
def test_bad_email_change_requests_are_422(
    user_api: Any, body: dict[str, Any], code: str, field: str
) -> None:
    payload = {"email": NEW_EMAIL, "currentPassword": PASSWORD, **body}
    if not body:
        del payload["email"]

    response = user_api.post("/api/auth/me/email", payload)

    assert error_of(response) == (422, code)
    assert field in response.json()["error"]["fields"]
    assert not VerificationCode.objects.exists()
    assert mail.outbox == []


@pytest.mark.parametrize(
    "body",
    [{"email": NEW_EMAIL}, {"code": "123456"}, {"email": NEW_EMAIL, "code": "1" * 13}],
)
def test_bad_email_confirmations_are_422(user: Any, user_api: Any, body: dict[str, Any]) -> None:
    response = user_api.post("/api/auth/me/email/confirm", body)

    assert response.status_code == 422
    assert response.json()["status"] == "error"


def test_a_new_email_request_replaces_the_pending_one_and_waits_a_minute(
    user: Any, user_api: Any, run_on_commit: Any
) -> None:
    ask_email(user_api, run_on_commit)
    first = emailed_code("Ada.Lovelace@example.org")

    too_soon = ask_email(user_api, run_on_commit)
    assert error_of(too_soon) == (429, "otp_resend_too_soon")
    assert int(too_soon["Retry-After"]) > 0

    ask_email(user_api, run_on_commit, email="elsewhere@example.org")
    second = emailed_code("elsewhere@example.org")

    stale = confirm_email(user_api, run_on_commit, first)
    assert error_of(stale) == (400, "invalid_verification_code")
    ok = confirm_email(user_api, run_on_commit, second, email="elsewhere@example.org")
    assert ok.json()["data"]["email"] == "elsewhere@example.org"


def test_links_sent_to_the_old_address_stop_working(
    user: Any, user_api: Any, run_on_commit: Any
) -> None:
    with run_on_commit():
        ApiClient().post("/api/auth/password/forgot", {"email": "ada@example.com"})
    token = re.search(r"token=([\w-]+)", last_email("ada@example.com").body).group(1)  # type: ignore[union-attr]
    ask_email(user_api, run_on_commit)
    confirm_email(user_api, run_on_commit, emailed_code("Ada.Lovelace@example.org"))

    reset = ApiClient().post(
        "/api/auth/password/reset", {"token": token, "newPassword": "a brand new pass 9"}
    )

    assert error_of(reset) == (400, "invalid_reset_token")


def test_the_change_routes_need_a_signed_in_user(api: Any) -> None:
    for path, body in [
        ("/api/auth/me/email", {"email": NEW_EMAIL}),
        ("/api/auth/me/email/confirm", {"email": NEW_EMAIL, "code": "123456"}),
        ("/api/auth/me/phone", {"phoneNumber": NEW_NUMBER}),
        ("/api/auth/me/phone/confirm", {"phoneNumber": NEW_NUMBER, "otpCode": "123456"}),
    ]:
        response = api.post(path, body)
        assert response.status_code == 401, path
        assert response.json()["status"] == "error"


def test_patch_me_refuses_email_and_phone(user: Any, user_api: Any) -> None:
    response = user_api.patch(
        "/api/auth/me",
        {"name": "Eve", "email": "evil@example.org", "phoneNumber": NEW_NUMBER},
    )

    assert response.status_code == 422
    assert response.json()["error"]["code"] == "unknown_field"
    assert sorted(response.json()["error"]["fields"]) == ["email", "phoneNumber"]
    user.refresh_from_db()
    assert user.name == "Ada"
    assert (user.email, user.phone_number) == ("ada@example.com", None)


# --- Phone --------------------------------------------------------------------------------


def test_a_phone_change_applies_only_once_the_new_number_is_confirmed(
    phone_user: User, phone_api: Any, run_on_commit: Any, sms_outbox: list[Any]
) -> None:
    asked = ask_phone(phone_api, run_on_commit, number="+27 82 987 6543")

    assert asked.status_code == 202
    assert asked.json()["data"] == {
        "detail": "If the number can receive it, a code is on its way by SMS.",
        "phoneNumber": NEW_NUMBER,
        "expiresIn": 600,
        "resendIn": 60,
        "codeLength": 6,
    }
    assert [message.to for message in sms_outbox] == [NEW_NUMBER]
    phone_user.refresh_from_db()
    assert phone_user.phone_number == NUMBER
    code = last_sms_code(NEW_NUMBER)
    record = VerificationCode.objects.get(purpose="phone_change")
    assert (record.target, record.user_id) == (NEW_NUMBER, phone_user.pk)
    assert code not in record.code_hash

    confirmed = confirm_phone(phone_api, run_on_commit, code, number="+27-82-987-6543")

    assert confirmed.status_code == 200
    data = confirmed.json()["data"]
    assert (data["phoneNumber"], data["phoneVerified"]) == (NEW_NUMBER, True)
    phone_user.refresh_from_db()
    assert phone_user.phone_number == NEW_NUMBER
    assert phone_user.phone_verified_at is not None
    assert phone_api.get("/api/auth/me").json()["data"]["phoneNumber"] == NEW_NUMBER
    alert = sms_outbox[-1]
    assert alert.to == NUMBER
    assert "Your phone number was changed to +2782*****43" in alert.body
    entry = AuditLog.objects.get(action="account.phone.changed")
    assert entry.changes == {"from": "+2782*****67", "to": "+2782*****43"}
    assert Notification.objects.filter(user=phone_user, kind="security.alert").count() == 1
    # Login codes now go to the new number (a minute later: its codes share one limit), and
    # the old number has no account.
    VerificationCode.objects.update(created_at=timezone.now() - timedelta(minutes=2))
    with run_on_commit():
        ApiClient().post("/api/auth/login", {"phoneNumber": NEW_NUMBER})
    login = ApiClient().post(
        "/api/auth/verify-login",
        {"phoneNumber": NEW_NUMBER, "otpCode": last_sms_code(NEW_NUMBER)},
    )
    assert login.json()["data"]["user"]["id"] == str(phone_user.pk)
    assert not User.objects.filter(phone_number=NUMBER).exists()


def test_a_phone_code_works_once_and_burns_on_the_third_wrong_try(
    phone_user: User, phone_api: Any, run_on_commit: Any
) -> None:
    ask_phone(phone_api, run_on_commit)
    code = last_sms_code(NEW_NUMBER)
    wrong = "000000" if code != "000000" else "111111"

    assert error_of(confirm_phone(phone_api, run_on_commit, wrong)) == (400, "otp_invalid")
    assert error_of(confirm_phone(phone_api, run_on_commit, wrong)) == (400, "otp_invalid")
    third = confirm_phone(phone_api, run_on_commit, wrong)
    assert error_of(third) == (400, "otp_attempts_exceeded")
    assert error_of(confirm_phone(phone_api, run_on_commit, code)) == (400, "otp_invalid")
    phone_user.refresh_from_db()
    assert phone_user.phone_number == NUMBER


def test_a_used_or_expired_phone_code_is_refused(
    phone_user: User, phone_api: Any, run_on_commit: Any
) -> None:
    ask_phone(phone_api, run_on_commit)
    code = last_sms_code(NEW_NUMBER)
    VerificationCode.objects.filter(purpose="phone_change").update(
        expires_at=timezone.now() - timedelta(seconds=1)
    )
    assert error_of(confirm_phone(phone_api, run_on_commit, code)) == (400, "otp_invalid")

    VerificationCode.objects.filter(purpose="phone_change").update(
        expires_at=timezone.now() + timedelta(minutes=5)
    )
    assert confirm_phone(phone_api, run_on_commit, code).status_code == 200
    again = confirm_phone(phone_api, run_on_commit, code)
    assert error_of(again) == (400, "otp_invalid")


def test_a_phone_code_for_another_user_does_not_work(
    phone_user: User, phone_api: Any, user: Any, user_api: Any, run_on_commit: Any
) -> None:
    ask_phone(phone_api, run_on_commit)
    code = last_sms_code(NEW_NUMBER)

    stolen = confirm_phone(user_api, run_on_commit, code)

    assert error_of(stolen) == (400, "otp_invalid")
    user.refresh_from_db()
    assert user.phone_number is None
    assert confirm_phone(phone_api, run_on_commit, code).status_code == 200


def test_a_taken_number_gets_the_same_reply_and_never_a_code(
    user: Any, user_api: Any, phone_user: User, run_on_commit: Any, sms_outbox: list[Any]
) -> None:
    free = ask_phone(user_api, run_on_commit, password=PASSWORD)
    VerificationCode.objects.all().delete()
    sms_outbox.clear()

    taken = ask_phone(user_api, run_on_commit, number=NUMBER, password=PASSWORD)

    assert free.status_code == taken.status_code == 202
    assert {**free.json()["data"], "phoneNumber": ""} == {**taken.json()["data"], "phoneNumber": ""}
    assert sms_outbox == []
    assert VerificationCode.objects.get(purpose="phone_change").delivered is False
    response = confirm_phone(user_api, run_on_commit, "123456", number=NUMBER)
    assert error_of(response) == (400, "otp_invalid")
    user.refresh_from_db()
    assert user.phone_number is None


def test_a_number_taken_between_request_and_confirmation_is_never_applied(
    user: Any, user_api: Any, run_on_commit: Any
) -> None:
    ask_phone(user_api, run_on_commit, password=PASSWORD)
    code = last_sms_code(NEW_NUMBER)
    User.objects.create_user(phone_number=NEW_NUMBER)

    response = confirm_phone(user_api, run_on_commit, code)

    assert error_of(response) == (409, "phone_taken")
    user.refresh_from_db()
    assert (user.phone_number, user.phone_verified_at) == (None, None)


@pytest.mark.parametrize(
    ("password", "expected"),
    [(None, (422, "password_required")), ("wrong", (400, "wrong_password"))],
)
def test_a_phone_change_needs_the_current_password_when_there_is_one(
    user_api: Any,
    run_on_commit: Any,
    sms_outbox: list[Any],
    password: str | None,
    expected: tuple[int, str],
) -> None:
    response = ask_phone(user_api, run_on_commit, password=password)

    assert error_of(response) == expected
    assert sms_outbox == []
    assert not VerificationCode.objects.exists()


@pytest.mark.parametrize(
    ("number", "code"),
    [
        ("0821234567", "invalid_phone_number"),
        ("not a number", "invalid_phone_number"),
        ("+27 82", "invalid_phone_number"),
        ("+" + "1" * 40, "validation_error"),
        (NUMBER, "address_unchanged"),
    ],
)
def test_bad_phone_change_requests_are_422(
    phone_api: Any, run_on_commit: Any, sms_outbox: list[Any], number: str, code: str
) -> None:
    response = ask_phone(phone_api, run_on_commit, number=number)

    assert error_of(response) == (422, code)
    assert "phoneNumber" in response.json()["error"]["fields"]
    assert sms_outbox == []
    assert not VerificationCode.objects.exists()


def test_phone_change_codes_share_the_numbers_limits(
    phone_api: Any, run_on_commit: Any, user_api: Any
) -> None:
    with run_on_commit():
        signup = ApiClient().post("/api/auth/signup", {"phoneNumber": NEW_NUMBER})
    assert signup.status_code == 200

    too_soon = ask_phone(phone_api, run_on_commit)

    assert error_of(too_soon) == (429, "otp_resend_too_soon")
    VerificationCode.objects.update(created_at=timezone.now() - timedelta(minutes=2))
    for _code in range(4):
        assert ask_phone(phone_api, run_on_commit).status_code == 202
        VerificationCode.objects.update(created_at=timezone.now() - timedelta(minutes=2))
    capped = ask_phone(user_api, run_on_commit, password=PASSWORD)
    assert error_of(capped) == (429, "otp_limit_reached")


def test_login_codes_sent_to_the_old_number_stop_working(
    phone_user: User, phone_api: Any, run_on_commit: Any
) -> None:
    with run_on_commit():
        ApiClient().post("/api/auth/login", {"phoneNumber": NUMBER})
    login_code = last_sms_code(NUMBER)
    VerificationCode.objects.update(created_at=timezone.now() - timedelta(minutes=2))
    ask_phone(phone_api, run_on_commit)
    confirm_phone(phone_api, run_on_commit, last_sms_code(NEW_NUMBER))

    response = ApiClient().post(
        "/api/auth/verify-login", {"phoneNumber": NUMBER, "otpCode": login_code}
    )

    assert error_of(response) == (400, "otp_invalid")


# --- Time capsules waiting for the new address --------------------------------------------


def send_capsule(sender_api: Any, **receiver: str) -> str:
    if "phone" in receiver:
        recipient = sender_api.post("/api/recipients", {"name": "Lin", **receiver})
        assert recipient.status_code == 201, recipient.json()
        target = {"recipientId": recipient.json()["data"]["id"]}
    else:
        target = {"receiverEmail": receiver["email"]}
    created = sender_api.post("/api/capsules", {"title": "Later", **target})
    assert created.status_code == 201, created.json()
    capsule_id = created.json()["data"]["id"]
    unlock = (timezone.now() + timedelta(days=3)).isoformat().replace("+00:00", "Z")
    sealed = sender_api.post(f"/api/capsules/{capsule_id}/seal", {"scheduledUnlockAt": unlock})
    assert sealed.status_code == 200, sealed.json()
    return str(capsule_id)


def inbox(client: Any) -> list[str]:
    response = client.get("/api/capsules", {"box": "inbox"})
    assert response.status_code == 200, response.json()
    return [item["id"] for item in response.json()["data"]["items"]]


def test_capsules_sent_to_a_new_email_attach_once_it_is_confirmed(
    user: Any, user_api: Any, other_api: Any, run_on_commit: Any
) -> None:
    capsule_id = send_capsule(other_api, email="ada.lovelace@example.org")
    ask_email(user_api, run_on_commit)
    assert inbox(user_api) == []  # asked for, not proven

    confirm_email(user_api, run_on_commit, emailed_code("Ada.Lovelace@example.org"))

    assert inbox(user_api) == [capsule_id]


def test_capsules_sent_to_a_new_number_attach_once_it_is_confirmed(
    phone_user: User, phone_api: Any, other_api: Any, run_on_commit: Any
) -> None:
    capsule_id = send_capsule(other_api, phone=NEW_NUMBER)
    ask_phone(phone_api, run_on_commit)
    assert inbox(phone_api) == []

    confirm_phone(phone_api, run_on_commit, last_sms_code(NEW_NUMBER))

    assert inbox(phone_api) == [capsule_id]
