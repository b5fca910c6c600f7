"""What a reader sees before the sweep is what the sweep then stores."""

from __future__ import annotations

from datetime import timedelta
from typing import Any

import pytest
from django.utils import timezone
from hypothesis import HealthCheck, given, settings
from hypothesis import strategies as st

from tessera.capsules import services
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
