"""The unlock sweep and the fan-out of its outbox (`CapsuleEvent`) to the receivers."""

from __future__ import annotations

import time
from collections import defaultdict
from dataclasses import dataclass
from datetime import UTC, datetime
from typing import Any

from django.conf import settings
from django.db import connection, transaction

from tessera.capsules import statemachine
from tessera.capsules.models import CapsuleEvent
from tessera.capsules.selectors import events_pending
from tessera.capsules.services.common import _notify_task, _now
from tessera.capsules.services.invitations import INVITATION_KIND, invitation_message
from tessera.notifications.services import NotifyItem, OutboundMessage, notify_many, send_many


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
    if notify_after and (result.readied or result.unfolded or events_pending()):
        # Several fan-out tasks share the work (each claims its own batches); one per
        # batch at most.
        batches = -(-(result.readied + result.unfolded) // NOTIFY_BATCH)
        for _ in range(max(1, min(settings.CAPSULE_NOTIFY_TASKS, batches))):
            _notify_task().delay(batch_size=NOTIFY_BATCH)
    return result


# Events per fan-out transaction: big enough that the per-batch queries vanish in the
# rows written, small enough that a redone batch (a worker killed mid-way) costs little.
NOTIFY_BATCH = 2000


def _claim_events(size: int) -> list[Any]:
    """Up to `size` events nobody has notified or is notifying, oldest first, locked until
    the caller's transaction ends; rows another worker holds are skipped (SKIP LOCKED)."""
    return list(
        CapsuleEvent.objects.select_for_update(skip_locked=True, of=("self",))
        .filter(notified_at__isnull=True)
        .order_by("id")
        .values(
            "id",
            "kind",
            "capsule_id",
            "capsule__title",
            "capsule__scheduled_unlock_at",
            "capsule__receiver_id",
            "capsule__receiver_email",
            "capsule__receiver_phone",
            "capsule__sender__name",
            "capsule__sender__email",
        )[:size]
    )


def _utc_minute(moment: datetime | None) -> str:
    """`2030-01-31 09:05 UTC` (as `strftime("%Y-%m-%d %H:%M UTC")` writes it, a tenth of
    its cost, which counted at a million events)."""
    if moment is None:
        return ""
    at = moment.astimezone(UTC)
    return f"{at.year:04d}-{at.month:02d}-{at.day:02d} {at.hour:02d}:{at.minute:02d} UTC"


def _notify_batch(events: list[dict[str, Any]]) -> None:
    """One `notify_many` per kind for receivers with an account; one `send_many` of
    invitations for READY capsules whose receiver has none yet."""
    by_kind: dict[str, list[NotifyItem]] = defaultdict(list)
    invitations: list[OutboundMessage] = []
    for event in events:
        unlock_at = event["capsule__scheduled_unlock_at"]
        sender_name = event["capsule__sender__name"] or ""
        if event["capsule__receiver_id"] is not None:
            by_kind[f"capsules.{event['kind']}"].append(
                NotifyItem(
                    user=event["capsule__receiver_id"],
                    context={
                        "title": event["capsule__title"],
                        "name": sender_name or event["capsule__sender__email"] or "",
                        "unlock_at": _utc_minute(unlock_at),
                    },
                    data={"capsuleId": str(event["capsule_id"])},
                )
            )
        elif event["kind"] == CapsuleEvent.Kind.READY:
            message = invitation_message(
                sender_name=sender_name,
                title=event["capsule__title"],
                unlock_at=unlock_at,
                receiver_email=event["capsule__receiver_email"],
                receiver_phone=event["capsule__receiver_phone"],
            )
            if message is not None:
                invitations.append(message)
    for kind, items in by_kind.items():
        notify_many(kind=kind, items=items)
    if invitations:
        send_many(kind=INVITATION_KIND, messages=invitations)


def capsule_notify_events(
    *,
    batch_size: int = NOTIFY_BATCH,
    limit: int | None = None,
    time_budget_seconds: float | None = None,
) -> int:
    """Notify each pending event's receiver exactly once, a batch at a time.

    Each batch is one transaction: claim events (SKIP LOCKED), write their notifications
    and queued deliveries (`notify_many`), set their `notified_at`, commit. Parallel runs
    never share an event; a run killed mid-batch commits nothing of it, and its events are
    claimed again by the next run (nobody is notified twice: the notifications were part
    of the transaction that died). Emails and SMS go out after commit, from the sending
    workers. A receiver deleted since the sweep took their capsules and events along
    (cascade); one deleted while the batch is written waits for it (`notify_many`).
    Stops after `limit` events or, between batches, once `time_budget_seconds` are spent.
    Returns how many events were handled."""
    handled = 0
    deadline = None if time_budget_seconds is None else time.monotonic() + time_budget_seconds
    while (limit is None or handled < limit) and (deadline is None or time.monotonic() < deadline):
        size = batch_size if limit is None else min(batch_size, limit - handled)
        with transaction.atomic():
            events = _claim_events(size)
            if not events:
                return handled
            _notify_batch(events)
            CapsuleEvent.objects.filter(pk__in=[event["id"] for event in events]).update(
                notified_at=_now()
            )
        handled += len(events)
    return handled
