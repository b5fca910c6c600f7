"""The unlock time's bounds: more than 1 minute ahead, at most five calendar years ahead
(same date and time; 29 February → 28 February), on a frozen clock."""

from __future__ import annotations

from collections.abc import Callable
from datetime import UTC, datetime, timedelta
from typing import Any

import pytest
from django.utils import timezone

from tessera.capsules import services
from tessera.capsules.errors import UnlockTimeInvalidError
from tessera.capsules.models import Capsule, CapsuleState

pytestmark = pytest.mark.django_db


@pytest.fixture
def freeze(monkeypatch: pytest.MonkeyPatch) -> Callable[[datetime], None]:
    """Stop Django's clock (`timezone.now`, which the capsule services read) at an instant."""

    def at(instant: datetime) -> None:
        monkeypatch.setattr(timezone, "now", lambda: instant)

    return at


def utc(  # noqa: PLR0917
    year: int, month: int, day: int, hour: int = 0, minute: int = 0, second: int = 0
) -> datetime:
    return datetime(year, month, day, hour, minute, second, tzinfo=UTC)


def seal(user: Any, other_user: Any, unlock_at: datetime) -> Capsule:
    capsule = services.capsule_create(sender=user, title="Later", receiver_id=other_user.pk)
    return services.capsule_seal(sender=user, capsule_id=capsule.pk, unlock_at=unlock_at)


@pytest.mark.parametrize(
    ("now", "latest"),
    [
        # Two leap days in between (2028-02-29, 2032-02-29): 1,827 days, not 1,826.
        (utc(2027, 3, 1, 12, 0), utc(2032, 3, 1, 12, 0)),
        # One leap day in between.
        (utc(2027, 1, 15, 8, 30), utc(2032, 1, 15, 8, 30)),
        # 29 February: five years on has none, so 28 February at the same time.
        (utc(2028, 2, 29, 10, 0), utc(2033, 2, 28, 10, 0)),
        # The day before 29 February: an ordinary date, moved as it is.
        (utc(2028, 2, 28, 23, 59, 59), utc(2033, 2, 28, 23, 59, 59)),
        # The day after: 1 March stays 1 March.
        (utc(2028, 3, 1, 0, 0), utc(2033, 3, 1, 0, 0)),
    ],
)
def test_a_capsule_may_unlock_exactly_five_calendar_years_ahead_and_not_a_moment_later(
    user: Any, other_user: Any, freeze: Callable[[datetime], None], now: datetime, latest: datetime
) -> None:
    freeze(now)

    sealed = seal(user, other_user, latest)
    assert sealed.state == CapsuleState.SEALED
    assert sealed.scheduled_unlock_at == latest
    assert sealed.sealed_at == now

    with pytest.raises(UnlockTimeInvalidError) as refused:
        seal(user, other_user, latest + timedelta(microseconds=1))
    assert refused.value.fields == {
        "scheduledUnlockAt": "Must be more than 1 minute and at most 5 years ahead."
    }
    assert Capsule.objects.filter(state=CapsuleState.DRAFT).count() == 1


def test_the_issue_example_sealed_2027_03_01_for_2032_03_01_is_accepted(
    user: Any, other_user: Any, freeze: Callable[[datetime], None]
) -> None:
    freeze(utc(2027, 3, 1, 0, 0))
    assert seal(user, other_user, utc(2032, 3, 1, 0, 0)).state == CapsuleState.SEALED
    with pytest.raises(UnlockTimeInvalidError):
        seal(user, other_user, utc(2032, 3, 1, 0, 0, 1))


def test_the_limit_is_counted_in_utc_whatever_zone_the_client_writes(
    user: Any, other_user: Any, freeze: Callable[[datetime], None]
) -> None:
    from zoneinfo import ZoneInfo

    freeze(utc(2027, 3, 1, 12, 0))
    riyadh = ZoneInfo("Asia/Riyadh")  # UTC+3
    assert seal(user, other_user, datetime(2032, 3, 1, 15, 0, tzinfo=riyadh)).state == "sealed"
    with pytest.raises(UnlockTimeInvalidError):
        seal(user, other_user, datetime(2032, 3, 1, 15, 0, 1, tzinfo=riyadh))


def test_the_lower_bound_is_more_than_one_minute(
    user: Any, other_user: Any, freeze: Callable[[datetime], None]
) -> None:
    now = utc(2027, 3, 1, 12, 0)
    freeze(now)
    with pytest.raises(UnlockTimeInvalidError):
        seal(user, other_user, now + timedelta(minutes=1))
    sealed = seal(user, other_user, now + timedelta(minutes=1, microseconds=1))
    assert sealed.state == CapsuleState.SEALED


def test_sending_a_draft_uses_the_same_five_calendar_years(
    user: Any, other_user: Any, freeze: Callable[[datetime], None]
) -> None:
    freeze(utc(2028, 2, 29, 10, 0))
    recipient = services.recipient_create(owner=user, name="Grace", email=other_user.email)
    draft = services.draft_create(owner=user, title="From a draft", recipient_id=recipient.pk)
    with pytest.raises(UnlockTimeInvalidError):
        services.draft_send(owner=user, draft_id=draft.pk, unlock_at=utc(2033, 3, 1, 10, 0))
    capsule = services.draft_send(owner=user, draft_id=draft.pk, unlock_at=utc(2033, 2, 28, 10))
    assert capsule.scheduled_unlock_at == utc(2033, 2, 28, 10)
