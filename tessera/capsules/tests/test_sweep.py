"""The unlock sweep on the default database: moves, events and notifications, each once."""

from __future__ import annotations

from datetime import timedelta
from typing import Any

import pytest
from django.utils import timezone

from tessera.capsules import services
from tessera.capsules.models import Capsule, CapsuleEvent, CapsuleState
from tessera.capsules.tests.factories import make_capsule
from tessera.notifications.models import Notification

pytestmark = pytest.mark.django_db


def test_the_sweep_moves_each_due_capsule_once_and_notifies_once(
    user: Any, other_user: Any
) -> None:
    due = make_capsule(sender=user, receiver=other_user, unlock_in=timedelta(seconds=-1))
    unfolding_due = make_capsule(
        sender=user,
        receiver=other_user,
        state=CapsuleState.UNFOLDING,
        unlock_in=timedelta(minutes=-5),
    )
    near = make_capsule(sender=user, receiver=other_user, unlock_in=timedelta(days=2))
    short = make_capsule(
        sender=user, receiver=other_user, unlock_in=timedelta(days=2), sealed_ago=timedelta(0)
    )
    far = make_capsule(sender=user, receiver=other_user, unlock_in=timedelta(days=20))
    draft = make_capsule(sender=user, receiver=other_user, state=CapsuleState.DRAFT)

    first = services.capsule_unlock_sweep(notify_after=False)
    second = services.capsule_unlock_sweep(notify_after=False)

    assert (first.readied, first.unfolded) == (2, 1)
    assert (second.readied, second.unfolded) == (0, 0)
    states = dict(Capsule.objects.values_list("id", "state"))
    assert states[due.pk] == states[unfolding_due.pk] == CapsuleState.READY
    assert states[near.pk] == CapsuleState.UNFOLDING
    assert states[short.pk] == states[far.pk] == CapsuleState.SEALED
    assert states[draft.pk] == CapsuleState.DRAFT
    assert CapsuleEvent.objects.count() == 3

    assert services.capsule_notify_events() == 3
    assert services.capsule_notify_events() == 0
    kinds = sorted(Notification.objects.filter(user=other_user).values_list("kind", flat=True))
    assert kinds == ["capsules.ready", "capsules.ready", "capsules.unfolding"]


def test_a_late_sweep_moves_a_long_overdue_capsule_straight_to_ready(
    user: Any, other_user: Any
) -> None:
    capsule = make_capsule(sender=user, receiver=other_user, unlock_in=timedelta(days=-4))
    result = services.capsule_unlock_sweep(notify_after=False)
    assert (result.readied, result.unfolded) == (1, 0)
    assert list(capsule.events.values_list("kind", flat=True)) == ["ready"]


def test_opening_before_the_sweep_records_the_event_the_sweep_then_skips(
    user: Any, other_user: Any
) -> None:
    capsule = make_capsule(sender=user, receiver=other_user, unlock_in=timedelta(seconds=-1))
    services.capsule_open(user=other_user, capsule_id=capsule.pk)
    result = services.capsule_unlock_sweep(notify_after=False)
    assert result.readied == 0
    capsule.refresh_from_db()
    assert capsule.state == CapsuleState.OPENED
    assert capsule.events.count() == 1


def test_the_beat_task_runs_the_sweep_and_its_notifications(user: Any, other_user: Any) -> None:
    from tessera.capsules.tasks import capsule_unlock_sweep

    make_capsule(sender=user, receiver=other_user, unlock_in=timedelta(seconds=-1))
    assert capsule_unlock_sweep.delay().get() == {"readied": 1, "unfolded": 0}
    assert Notification.objects.filter(user=other_user, kind="capsules.ready").count() == 1
    assert not CapsuleEvent.objects.filter(notified_at=None).exists()
    assert timezone.now()


def test_a_later_sweep_delivers_events_a_dead_worker_left_pending(
    user: Any, other_user: Any
) -> None:
    from tessera.capsules.tasks import capsule_unlock_sweep

    make_capsule(sender=user, receiver=other_user, unlock_in=timedelta(seconds=-1))
    services.capsule_unlock_sweep(notify_after=False)  # the notify task never ran
    assert capsule_unlock_sweep.delay().get() == {"readied": 0, "unfolded": 0}
    assert Notification.objects.filter(user=other_user, kind="capsules.ready").count() == 1
