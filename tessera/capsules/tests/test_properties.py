"""What a reader sees before the sweep is what the sweep then stores."""

from __future__ import annotations

from datetime import timedelta
from typing import Any

import pytest
from django.utils import timezone
from hypothesis import HealthCheck, given, settings
from hypothesis import strategies as st

from tessera.capsules import selectors, services
from tessera.capsules.models import Capsule, CapsuleEvent, CapsuleState
from tessera.capsules.tests.factories import make_capsule

pytestmark = pytest.mark.django_db


@settings(
    max_examples=40, deadline=None, suppress_health_check=[HealthCheck.function_scoped_fixture]
)
@given(
    unlock_minutes=st.integers(min_value=-10 * 24 * 60, max_value=10 * 24 * 60),
    sealed_days_ago=st.integers(min_value=0, max_value=30),
    start=st.sampled_from([CapsuleState.SEALED, CapsuleState.UNFOLDING]),
)
def test_effective_state_matches_the_sweep(
    user: Any, other_user: Any, unlock_minutes: int, sealed_days_ago: int, start: str
) -> None:
    now = timezone.now()
    capsule = make_capsule(
        sender=user,
        receiver=other_user,
        state=start,
        unlock_in=timedelta(minutes=unlock_minutes),
        sealed_ago=timedelta(days=sealed_days_ago),
        now=now,
    )
    seen = capsule.effective_state(now)
    services.capsule_unlock_sweep(now=now, notify_after=False)
    services.capsule_unlock_sweep(now=now, notify_after=False)
    capsule.refresh_from_db()
    if start == CapsuleState.UNFOLDING and seen == CapsuleState.UNFOLDING:
        assert capsule.state == CapsuleState.UNFOLDING
    else:
        assert capsule.state == seen
    assert CapsuleEvent.objects.filter(capsule=capsule).count() == (
        0 if capsule.state == start else 1
    )
    Capsule.objects.all().delete()


@settings(
    max_examples=30, deadline=None, suppress_health_check=[HealthCheck.function_scoped_fixture]
)
@given(
    minutes_ago=st.lists(st.integers(min_value=0, max_value=4), min_size=0, max_size=12),
    page_size=st.integers(min_value=1, max_value=5),
)
def test_walking_by_cursor_lists_every_capsule_once_in_inbox_order(
    user: Any, other_user: Any, minutes_ago: list[int], page_size: int
) -> None:
    # Few distinct creation times, so many ties that only the id orders.
    base = timezone.now()
    for minutes in minutes_ago:
        capsule = make_capsule(sender=user, receiver=other_user)
        Capsule.objects.filter(pk=capsule.pk).update(created_at=base - timedelta(minutes=minutes))
    expected = list(
        Capsule.objects.filter(receiver=other_user)
        .order_by("-created_at", "-id")
        .values_list("pk", flat=True)
    )

    seen: list[Any] = []
    cursor = None
    while True:
        page = selectors.capsule_page(
            user=other_user, box="inbox", state=None, page=1, page_size=page_size, cursor=cursor
        )
        assert len(page["items"]) <= page_size
        assert (page["count"], page["count_exact"]) == (len(expected), True)
        seen += [item["id"] for item in page["items"]]
        cursor = page["next_cursor"]
        if cursor is None:
            break
    assert seen == expected
    Capsule.objects.all().delete()
