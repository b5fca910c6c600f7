"""Exactly-once unlocking and notifying on real parallel PostgreSQL connections, and with a
fan-out worker process killed mid-batch."""

from __future__ import annotations

import os
import select
import signal
import subprocess
import sys
import time
from datetime import timedelta
from typing import Any

import pytest
from django.conf import settings
from django.db import connection, transaction
from django.db.models import Count

from tessera.accounts.models import User
from tessera.capsules import services
from tessera.capsules.models import Capsule, CapsuleEvent, CapsuleState
from tessera.capsules.tests.factories import make_capsule
from tessera.notifications.models import Delivery, Notification
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
    _receiver, due, unfolding = _population()

    def killed_sweep() -> None:
        with transaction.atomic(), connection.cursor() as cursor:
            cursor.execute(services._sql_pg_ready(), {"now": services._now(), "batch": 50})
            assert cursor.rowcount == 50
            raise KilledError

    with pytest.raises(KilledError):
        killed_sweep()
    assert CapsuleEvent.objects.count() == 0
    assert Capsule.objects.filter(state=CapsuleState.READY).count() == 0

    result = services.capsule_unlock_sweep(notify_after=False)
    assert (result.readied, result.unfolded) == (due, unfolding)
    assert CapsuleEvent.objects.count() == due + unfolding


# --- the fan-out ------------------------------------------------------------------------------


def _many_receivers(count: int) -> list[User]:
    sender = User.objects.create_user(email="sender@example.com", name="Sam")
    receivers = [User.objects.create_user(email=f"r{n}@example.com") for n in range(count)]
    for receiver in receivers:
        for _ in range(3):
            make_capsule(sender=sender, receiver=receiver, unlock_in=timedelta(seconds=-3))
    services.capsule_unlock_sweep(notify_after=False)
    return receivers


def _assert_each_event_notified_once(expected_events: int) -> None:
    per_capsule = (
        Notification.objects.values("user", "data__capsuleId", "kind")
        .annotate(n=Count("id"))
        .order_by()
    )
    assert {row["n"] for row in per_capsule} == {1}, "a receiver was notified twice"
    assert len(per_capsule) == expected_events
    emails = Delivery.objects.filter(channel="email").values("notification").annotate(n=Count("id"))
    assert {row["n"] for row in emails} == {1}
    assert len(emails) == expected_events
    assert not CapsuleEvent.objects.filter(notified_at=None).exists()


def test_two_fan_out_workers_at_once_notify_nobody_twice() -> None:
    receivers = _many_receivers(40)
    events = CapsuleEvent.objects.count()
    assert events == 120

    handled = race(lambda: services.capsule_notify_events(batch_size=7), 2)

    assert all(isinstance(n, int) for n in handled), handled
    assert sum(handled) == events
    _assert_each_event_notified_once(events)
    assert set(Notification.objects.values_list("user", flat=True)) == {r.pk for r in receivers}


def _test_database_url() -> str:
    db = connection.settings_dict
    auth = db["USER"] + (f":{db['PASSWORD']}" if db.get("PASSWORD") else "")
    return f"postgresql://{auth}@{db['HOST'] or '127.0.0.1'}:{db['PORT'] or 5432}/{db['NAME']}"


def _start_worker(*, batch_size: int, pause_at: int) -> subprocess.Popen[str]:
    from tessera.capsules.tests import fanout_worker

    env = {
        **os.environ,
        "DJANGO_SETTINGS_MODULE": "config.settings.test",
        "TEST_DATABASE_URL": _test_database_url(),
    }
    return subprocess.Popen(  # noqa: S603 - our own interpreter and module
        [sys.executable, "-m", fanout_worker.__name__, str(batch_size), str(pause_at)],
        cwd=settings.BASE_DIR,
        env=env,
        stdout=subprocess.PIPE,
        text=True,
    )


def _wait_for_pause(worker: subprocess.Popen[str], timeout: float = 120) -> None:
    from tessera.capsules.tests.fanout_worker import PAUSED

    assert worker.stdout is not None
    deadline = time.monotonic() + timeout
    while time.monotonic() < deadline:
        ready, _, _ = select.select([worker.stdout], [], [], 1)
        if ready:
            line = worker.stdout.readline()
            if line.strip() == PAUSED:
                return
            if not line and worker.poll() is not None:
                break
    worker.kill()
    pytest.fail(f"the worker never reached its pause (exit code {worker.poll()})")


def test_a_fan_out_worker_killed_mid_batch_leaves_the_batch_to_be_redone_once() -> None:
    _many_receivers(10)  # 30 events: batches of 10
    events = CapsuleEvent.objects.count()

    worker = _start_worker(batch_size=10, pause_at=2)
    try:
        _wait_for_pause(worker)
        # Batch 1 is committed; batch 2's notifications are written but not committed, and
        # its events are locked: another worker skips them and takes batch 3.
        assert Notification.objects.count() == 10
        assert CapsuleEvent.objects.filter(notified_at__isnull=False).count() == 10
        assert services.capsule_notify_events(batch_size=10, limit=10) == 10
        assert CapsuleEvent.objects.filter(notified_at__isnull=True).count() == 10
    finally:
        worker.send_signal(signal.SIGKILL)
        worker.wait(timeout=30)
    assert worker.returncode == -signal.SIGKILL

    # The killed transaction rolled back (PostgreSQL ends it when the connection drops):
    # its events are free again, and the next run notifies each of them once.
    deadline = time.monotonic() + 30
    while services.capsule_notify_events(batch_size=10) == 0 and time.monotonic() < deadline:
        time.sleep(0.2)
    _assert_each_event_notified_once(events)
    assert Notification.objects.count() == events


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
