"""Exactly-once unlocking on real parallel PostgreSQL connections."""

from __future__ import annotations

from datetime import timedelta
from typing import Any

import pytest
from django.db import connection, transaction
from django.db.models import Count

from tessera.accounts.models import User
from tessera.capsules import services
from tessera.capsules.models import Capsule, CapsuleEvent, CapsuleState
from tessera.capsules.tests.factories import make_capsule
from tessera.notifications.models import Notification
from tests.concurrency import race

pytestmark = [
    pytest.mark.postgres,
    pytest.mark.django_db(transaction=True, serialized_rollback=True),
]


def _population() -> tuple[Any, int, int]:
    sender = User.objects.create_user(email="s@example.com")
    receiver = User.objects.create_user(email="r@example.com")
    for _ in range(120):
        make_capsule(sender=sender, receiver=receiver, unlock_in=timedelta(seconds=-3))
    for _ in range(40):
        make_capsule(sender=sender, receiver=receiver, unlock_in=timedelta(days=1))
    return receiver, 120, 40


def test_four_parallel_sweeps_move_and_notify_each_capsule_once() -> None:
    receiver, due, unfolding = _population()

    sweeps = race(lambda: services.capsule_unlock_sweep(batch_size=7, notify_after=False), 4)
    assert all(isinstance(r, services.SweepResult) for r in sweeps), sweeps
    assert sum(r.readied for r in sweeps) == due
    assert sum(r.unfolded for r in sweeps) == unfolding

    notified = race(lambda: services.capsule_notify_events(batch_size=9), 4)
    assert all(isinstance(n, int) for n in notified), notified
    assert sum(notified) == due + unfolding

    assert Capsule.objects.filter(state=CapsuleState.READY).count() == due
    assert Capsule.objects.filter(state=CapsuleState.UNFOLDING).count() == unfolding
    per_capsule = CapsuleEvent.objects.values("capsule").annotate(n=Count("id"))
    assert {row["n"] for row in per_capsule} == {1}
    assert not CapsuleEvent.objects.filter(notified_at=None).exists()
    kinds = Notification.objects.filter(user=receiver).values("kind").annotate(n=Count("id"))
    assert {row["kind"]: row["n"] for row in kinds} == {
        "capsules.ready": due,
        "capsules.unfolding": unfolding,
    }
    assert services.capsule_unlock_sweep(notify_after=False) == services.SweepResult(0, 0)


class KilledError(Exception):
    pass


def test_a_sweep_killed_half_way_leaves_nothing_half_done_and_the_next_finishes() -> None:
    receiver, due, unfolding = _population()

    def killed_sweep() -> None:
        with transaction.atomic(), connection.cursor() as cursor:
            cursor.execute(services._sql_pg_ready(), {"now": services._now(), "batch": 50})
            assert cursor.rowcount == 50
            raise KilledError

    with pytest.raises(KilledError):
        killed_sweep()
    assert CapsuleEvent.objects.count() == 0
    assert Capsule.objects.filter(state=CapsuleState.READY).count() == 0

    services.capsule_unlock_sweep(notify_after=False)

    def killed_notify() -> None:
        with transaction.atomic():
            events = list(
                CapsuleEvent.objects.select_for_update(skip_locked=True, of=("self",))
                .filter(notified_at=None)
                .select_related("capsule", "capsule__sender", "capsule__receiver")[:10]
            )
            for event in events:
                services._notify_event(event)
            raise KilledError

    with pytest.raises(KilledError):
        killed_notify()
    assert Notification.objects.count() == 0
    assert services.capsule_notify_events() == due + unfolding
    assert Notification.objects.filter(user=receiver).count() == due + unfolding


def test_a_receiver_opening_while_the_sweep_runs_is_moved_once() -> None:
    sender = User.objects.create_user(email="s@example.com")
    receiver = User.objects.create_user(email="r@example.com")
    capsule = make_capsule(sender=sender, receiver=receiver, unlock_in=timedelta(seconds=-1))

    def work_open() -> Any:
        return services.capsule_open(user=receiver, capsule_id=capsule.pk)

    def work_sweep() -> Any:
        return services.capsule_unlock_sweep(notify_after=False)

    works = [work_open, work_sweep]
    results = race(lambda: works.pop()(), 2)  # noqa: PLW0108 - pop at call time
    assert not [
        r
        for r in results
        if isinstance(r, Exception) and "capsule_" not in str(getattr(r, "code", ""))
    ], results
    capsule.refresh_from_db()
    assert capsule.events.count() == 1
    assert capsule.state in (CapsuleState.READY, CapsuleState.OPENED)
