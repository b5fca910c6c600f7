"""The unlock sweep and the delivery of its outbox (`CapsuleEvent`)."""

from __future__ import annotations

from dataclasses import dataclass
from datetime import datetime

from django.db import connection, transaction

from tessera.capsules import statemachine
from tessera.capsules.models import CapsuleEvent
from tessera.capsules.services.common import _notify_task, _now
from tessera.capsules.services.invitations import capsule_invite_pending
from tessera.notifications.services import notify


@dataclass(frozen=True)
class SweepResult:
    readied: int
    unfolded: int


def _sql_pg_ready() -> str:
    return statemachine.sql_sweep_pg(statemachine.transition("unlock"))


def _sql_pg_unfold() -> str:
    return statemachine.sql_sweep_pg(statemachine.transition("unfold"))


# One batch per clock move at a time across all workers: a sweep that finds a move's lock
# taken stops that move, because the holder carries on until nothing is due (so rows are
# never locked twice, no SELECT … FOR UPDATE). One key per move: a holder of one move must
# never make the other move's holder stop.
_LOCK_KEY_BASE = 0x7E55_CA95


def _sweep_pg(sql: str, *, lock_key: int, now: datetime, batch_size: int) -> int:
    total = 0
    while True:
        with transaction.atomic(), connection.cursor() as cursor:
            cursor.execute("SELECT pg_try_advisory_xact_lock(%s)", [lock_key])
            if not cursor.fetchone()[0]:
                return total
            cursor.execute(sql, {"now": now, "batch": batch_size})
            moved = cursor.rowcount
        total += moved
        if moved == 0:
            return total


def _sweep_sqlite(*, now: datetime) -> dict[str, int]:
    # SQLite runs write transactions one at a time (IMMEDIATE), so two statements in one
    # transaction are as safe as PostgreSQL's UPDATE … RETURNING.
    params = {"now": connection.ops.adapt_datetimefield_value(now)}
    moved: dict[str, int] = {}
    with transaction.atomic(), connection.cursor() as cursor:
        for move in statemachine.CLOCK:
            record, update = statemachine.sql_sweep_sqlite(move)
            cursor.execute(record, params)
            cursor.execute(update, params)
            moved[move.target] = cursor.rowcount
    return moved


def capsule_unlock_sweep(
    *, now: datetime | None = None, batch_size: int = 100_000, notify_after: bool = True
) -> SweepResult:
    """Move every due capsule forward with set-based UPDATEs guarded by the current state,
    writing one `CapsuleEvent` per move in the same statement (PostgreSQL) or transaction
    (SQLite). Concurrent sweeps take turns per batch (a transaction-level advisory lock;
    the unique event row is the last guard); a sweep killed half-way loses only its
    uncommitted batch, which the next sweep redoes."""
    now = now or _now()
    if connection.vendor == "postgresql":
        moved = {
            move.target: _sweep_pg(
                statemachine.sql_sweep_pg(move),
                lock_key=_LOCK_KEY_BASE + index,
                now=now,
                batch_size=batch_size,
            )
            for index, move in enumerate(statemachine.CLOCK)
        }
    else:
        moved = _sweep_sqlite(now=now)
    result = SweepResult(readied=moved[statemachine.READY], unfolded=moved[statemachine.UNFOLDING])
    # Also when nothing moved: events a dead worker left unnotified get picked up again.
    if notify_after and (
        result.readied
        or result.unfolded
        or CapsuleEvent.objects.filter(notified_at__isnull=True).exists()
    ):
        _notify_task().delay(batch_size=500)
    return result


def capsule_notify_events(*, batch_size: int = 500, limit: int | None = None) -> int:
    """Notify each pending event's receiver once: the notification and `notified_at` are
    written in one transaction over rows locked with SKIP LOCKED, so parallel or repeated
    runs never notify twice. Returns how many events were handled."""
    handled = 0
    while limit is None or handled < limit:
        with transaction.atomic():
            events = list(
                CapsuleEvent.objects.select_for_update(skip_locked=True, of=("self",))
                .filter(notified_at__isnull=True)
                .select_related("capsule", "capsule__sender", "capsule__receiver")
                .order_by("id")[:batch_size]
            )
            if not events:
                return handled
            for event in events:
                _notify_event(event)
            CapsuleEvent.objects.filter(pk__in=[e.pk for e in events]).update(notified_at=_now())
            handled += len(events)
    return handled


def _notify_event(event: CapsuleEvent) -> None:
    capsule = event.capsule
    context = {
        "title": capsule.title,
        "name": capsule.sender.name or capsule.sender.email or "",
        "unlock_at": capsule.scheduled_unlock_at.strftime("%Y-%m-%d %H:%M UTC")
        if capsule.scheduled_unlock_at
        else "",
    }
    if capsule.receiver is not None:
        notify(
            user=capsule.receiver,
            kind=f"capsules.{event.kind}",
            context=context,
            data={"capsuleId": str(capsule.pk)},
        )
    elif event.kind == CapsuleEvent.Kind.READY:
        capsule_invite_pending(capsule)
