"""Address changes racing on real parallel PostgreSQL connections: two accounts confirming
one new address at once, and one code confirmed twice at once."""

from __future__ import annotations

import pytest

from tessera.accounts import services
from tessera.accounts.errors import (
    EmailTakenError,
    InvalidVerificationCodeError,
    OtpInvalidError,
    PhoneTakenError,
)
from tessera.accounts.models import User
from tessera.accounts.services.codes import code_hash, code_issue
from tessera.audit.models import AuditLog
from tests.concurrency import race

pytestmark = [
    pytest.mark.postgres,
    pytest.mark.django_db(transaction=True, serialized_rollback=True),
]

CODE = "424242"


def pending(*, user: User, purpose: str, target: str) -> None:
    code_issue(
        purpose=purpose,
        target=target,
        user=user,
        ttl_seconds=600,
        code=CODE,
        hashed=code_hash(purpose=purpose, target=target, code=CODE),
        per_user=True,
    )


def test_two_accounts_confirming_one_email_at_once_give_it_to_one() -> None:
    first = User.objects.create_user(email="first@example.com")
    second = User.objects.create_user(email="second@example.com")
    for user in (first, second):
        pending(user=user, purpose="email_change", target="shared@example.org")
    users = iter([first, second])

    def confirm() -> object:
        return services.email_change_confirm(
            user=next(users), email="shared@example.org", code=CODE
        )

    results = race(confirm)

    winners = [r for r in results if isinstance(r, User)]
    losers = [r for r in results if isinstance(r, EmailTakenError)]
    assert (len(winners), len(losers)) == (1, 1), results
    assert User.objects.filter(email__iexact="shared@example.org").count() == 1
    assert User.objects.filter(email__in=["first@example.com", "second@example.com"]).count() == 1
    assert AuditLog.objects.filter(action="account.email.changed").count() == 1


def test_two_accounts_confirming_one_number_at_once_give_it_to_one() -> None:
    number = "+27829876543"
    first = User.objects.create_user(phone_number="+27821111111")
    second = User.objects.create_user(phone_number="+27822222222")
    for user in (first, second):
        pending(user=user, purpose="phone_change", target=number)
    users = iter([first, second])

    def confirm() -> object:
        return services.phone_change_confirm(user=next(users), phone_number=number, otp_code=CODE)

    results = race(confirm)

    winners = [r for r in results if isinstance(r, User)]
    losers = [r for r in results if isinstance(r, PhoneTakenError)]
    assert (len(winners), len(losers)) == (1, 1), results
    assert User.objects.filter(phone_number=number).count() == 1
    assert AuditLog.objects.filter(action="account.phone.changed").count() == 1


@pytest.mark.parametrize("kind", ["email", "phone"])
def test_one_change_code_confirmed_twice_at_once_applies_once(kind: str) -> None:
    user = User.objects.create_user(email="once@example.com", phone_number="+27821111111")
    if kind == "email":
        pending(user=user, purpose="email_change", target="new@example.org")

        def confirm() -> object:
            return services.email_change_confirm(user=user, email="new@example.org", code=CODE)

        refused: type[Exception] = InvalidVerificationCodeError
    else:
        pending(user=user, purpose="phone_change", target="+27829876543")

        def confirm() -> object:
            return services.phone_change_confirm(
                user=user, phone_number="+27829876543", otp_code=CODE
            )

        refused = OtpInvalidError

    results = race(confirm)

    assert sorted(type(r).__name__ for r in results) == sorted(["User", refused.__name__])
    assert AuditLog.objects.filter(action=f"account.{kind}.changed").count() == 1
