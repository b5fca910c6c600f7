"""Races on real parallel PostgreSQL connections: a refresh token, a one-time code, a phone
number's caps, an email registered twice, an identity signing in twice."""

from __future__ import annotations

from typing import Any

import pytest

from tessera.accounts import services
from tessera.accounts.errors import OtpInvalidError, OtpResendTooSoonError, RefreshTokenReusedError
from tessera.accounts.models import AuthSession, RefreshToken, SocialAccount, User, VerificationCode
from tessera.accounts.services.codes import code_hash, code_issue
from tessera.accounts.social import SocialProfile
from tessera.audit.models import AuditLog
from tests.concurrency import race

pytestmark = [
    pytest.mark.postgres,
    pytest.mark.django_db(transaction=True, serialized_rollback=True),
]

NUMBER = "+27821234567"


def test_a_refresh_token_raced_by_two_requests_rotates_once_and_the_loser_trips_reuse() -> None:
    user = User.objects.create_user(email="race@example.com")
    pair = services.session_start(user=user, method="password")

    results = race(lambda: services.session_refresh(refresh_token=pair.refresh_token))

    winners = [r for r in results if isinstance(r, services.TokenPair)]
    losers = [r for r in results if isinstance(r, RefreshTokenReusedError)]
    assert (len(winners), len(losers)) == (1, 1), results
    assert RefreshToken.objects.filter(session=pair.session).count() == 2
    assert RefreshToken.objects.filter(session=pair.session, used_at__isnull=False).count() == 1
    session = AuthSession.objects.get(pk=pair.session.pk)
    assert session.revoked_reason == "refresh_reuse"
    assert AuditLog.objects.filter(action="auth.refresh.reuse_detected").count() == 1


def test_one_code_verified_twice_at_once_signs_in_once() -> None:
    code = "424242"
    code_issue(
        purpose="phone_signup",
        target=NUMBER,
        user=None,
        ttl_seconds=600,
        code=code,
        hashed=code_hash(purpose="phone_signup", target=NUMBER, code=code),
    )

    results = race(
        lambda: services.otp_verify(phone_number=NUMBER, otp_code=code, purpose="phone_signup")
    )

    assert sorted(type(r).__name__ for r in results) == ["OtpInvalidError", "TokenPair"]
    assert any(isinstance(r, OtpInvalidError) for r in results)
    assert User.objects.filter(phone_number=NUMBER).count() == 1
    assert AuthSession.objects.count() == 1


def test_two_codes_requested_at_once_send_one(settings: Any) -> None:
    settings.SMS_BACKEND = "memory"

    results = race(lambda: services.otp_send(phone_number=NUMBER, purpose="phone_signup"), copies=3)

    assert sum(isinstance(r, services.CodeSent) for r in results) == 1
    assert sum(isinstance(r, OtpResendTooSoonError) for r in results) == 2
    assert VerificationCode.objects.filter(target=NUMBER).count() == 1


def test_one_email_registered_twice_at_once_makes_one_account() -> None:
    results = race(
        lambda: services.account_register(
            email="twice@example.com", password="a long enough pass 7", name="Twice"
        )
    )

    assert all(isinstance(r, services.Registered) for r in results), results
    assert User.objects.filter(email__iexact="twice@example.com").count() == 1


def test_one_identity_signing_in_twice_at_once_makes_one_account() -> None:
    profile = SocialProfile(
        provider="github",
        uid="583231",
        email="octo@example.com",
        email_verified=True,
        name="Octo",
        extra={},
    )

    results = race(lambda: services.social_login(profile=profile))

    assert all(isinstance(r, services.TokenPair) for r in results), results
    assert User.objects.count() == 1
    assert SocialAccount.objects.count() == 1
    assert AuthSession.objects.count() == 2
