"""What a reader sees before the sweep is what the sweep then stores."""

from __future__ import annotations

from datetime import timedelta
from typing import Any
from uuid import UUID

import orjson
import pytest
from django.core.cache import cache
from django.utils import timezone
from hypothesis import HealthCheck, given, settings
from hypothesis import strategies as st

from tessera.capsules import selectors, services
from tessera.capsules.models import Capsule, CapsuleEvent, CapsuleState
from tessera.capsules.tests.factories import make_capsule
from tessera.core import ratelimit

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
        items = orjson.loads(page.items)
        assert len(items) <= page_size
        assert (page.count, page.count_exact) == (len(expected), True)
        seen += [UUID(item["id"]) for item in items]
        cursor = page.next_cursor
        if cursor is None:
            break
    assert seen == expected
    Capsule.objects.all().delete()


_capsule_specs = st.lists(
    st.fixed_dictionaries(
        {
            "state": st.sampled_from(list(CapsuleState)),
            # Around now, around the 3-day unfolding boundary, and far ahead.
            "unlock_minutes": st.one_of(
                st.integers(min_value=-120, max_value=120),
                st.integers(min_value=3 * 24 * 60 - 5, max_value=3 * 24 * 60 + 5),
                st.integers(min_value=-30 * 24 * 60, max_value=30 * 24 * 60),
            ),
            "sealed_days_ago": st.integers(min_value=0, max_value=10),
            "allow_early_view": st.booleans(),
            "replied": st.booleans(),
            "invited": st.booleans(),  # sent to an address with no account yet
            "whole_seconds": st.booleans(),  # a time with no microseconds prints none
            "title": st.text(
                st.characters(codec="utf-8", exclude_characters="\x00"),
                min_size=1,
                max_size=12,
            ),
        }
    ),
    min_size=1,
    max_size=6,
)


@settings(
    max_examples=30, deadline=None, suppress_health_check=[HealthCheck.function_scoped_fixture]
)
@given(specs=_capsule_specs)
def test_a_listed_capsule_is_the_capsule_as_its_own_route_shows_it(
    user_api: Any, other_api: Any, user: Any, other_user: Any, specs: list[dict[str, Any]]
) -> None:
    """The list builds its items in SQL on PostgreSQL and from `capsule_view` elsewhere; the
    single-capsule route always uses `capsule_view`. Both must agree in every state, for
    both readers, to the character."""
    Capsule.objects.all().delete()  # what an earlier example left, had it failed
    cache.clear()  # a fresh rate-limit budget for each example's requests
    ratelimit.default_limiter.cache_clear()
    now = timezone.now()
    for spec in specs:
        state = spec["state"]
        capsule = make_capsule(
            sender=user,
            receiver=None if spec["invited"] else other_user,
            receiver_email="later@example.com" if spec["invited"] else "",
            state=state,
            unlock_in=timedelta(minutes=spec["unlock_minutes"]),
            sealed_ago=timedelta(days=spec["sealed_days_ago"]),
            now=now,
            title=spec["title"],
            allow_early_view=spec["allow_early_view"],
        )
        changes: dict[str, Any] = {}
        if spec["replied"] and state != CapsuleState.DRAFT:
            changes |= {"reply_body": "Thank you", "replied_at": now}
        if state == CapsuleState.OPENED:
            changes["opened_at"] = now - timedelta(minutes=1)
        if spec["whole_seconds"]:
            changes["created_at"] = now.replace(microsecond=0)
        if changes:
            Capsule.objects.filter(pk=capsule.pk).update(**changes)

    for client, box in ((other_api, "inbox"), (user_api, "outbox")):
        reply = client.get(f"/api/capsules?box={box}&pageSize=50").json()
        assert "data" in reply, reply
        listed = reply["data"]["items"]
        expected = Capsule.objects.filter(
            **({"receiver": other_user} if box == "inbox" else {"sender": user})
        ).exclude(**({"state": CapsuleState.DRAFT} if box == "inbox" else {"pk": None}))
        assert len(listed) == expected.count()
        for item in listed:
            alone = client.get(f"/api/capsules/{item['id']}").json()["data"]
            assert {**alone, "media": None} == item
    Capsule.objects.all().delete()
