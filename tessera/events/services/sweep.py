"""The beat job (`events-sweep`, every 60 s): the moves the clock makes, each selected by
the state machine table's own condition (`statemachine.Machine.q_due`), and the reminders.

- published events whose end has passed → completed;
- requests (and waitlist places) still pending at the start → expired;
- invitations past their expiry → expired;
- payment holds that lapsed → ticket expired, place freed, waitlist promoted;
- events starting within EVENTS_REMINDER_BEFORE_MINUTES → attendees reminded, once per
  start (`event_remind_now`, the `events.remind` task); a reminder whose task was lost is
  enqueued again.
"""

from __future__ import annotations

import uuid
from dataclasses import dataclass
from datetime import datetime, timedelta
from typing import Any

from django.conf import settings
from django.db import transaction
from django.db.models import F, QuerySet

from tessera.core.jobs import enqueue_on_commit
from tessera.events import statemachine as sm
from tessera.events.discoverycache import discovery_changed
from tessera.events.models import Event, EventReminder, Invite, JoinRequest, Ticket
from tessera.events.services.common import event_locked, now, place_free
from tessera.events.services.notify import tell
from tessera.events.services.requests import waitlist_promote

# An unsent reminder enqueued (or last advanced by a chunk) this long ago had its task
# lost: it is enqueued again.
REMINDER_LOST_AFTER = timedelta(minutes=5)
# People told per transaction of `event_remind_now`.
REMINDER_CHUNK = 500


@dataclass(frozen=True)
class SweepResult:
    completed: int = 0
    requests_expired: int = 0
    invites_expired: int = 0
    holds_expired: int = 0
    reminded: int = 0
    reminders_resent: int = 0


def _moved(
    queryset: QuerySet[Any], machine: sm.Machine, name: str, at: datetime, **also: Any
) -> int:
    """The set-based form of a clock transition: rows `q_due` names get its target."""
    target = machine.transition(name).target
    return int(
        queryset.filter(machine.q_due(name, at)).update(
            **{machine.field: target, "updated_at": at, **also}
        )
    )


def _holds_expire(at: datetime, limit: int) -> int:
    from tessera.events.tasks import ticket_order_cancel

    expired = 0
    due = list(
        Ticket.objects.filter(sm.TICKET.q_due("expire", at)).values_list("pk", "event_id")[:limit]
    )
    for ticket_id, event_id in due:
        with transaction.atomic():
            event = event_locked(event_id=event_id)
            ticket = (
                Ticket.objects.select_for_update()
                .filter(pk=ticket_id)
                .filter(sm.TICKET.q_due("expire", at))
                .first()
            )
            if ticket is None:
                continue  # paid or cancelled meanwhile
            order_id = ticket.order_id
            ticket.expire()
            ticket.save()
            place_free(event)
            if order_id is not None:
                enqueue_on_commit(ticket_order_cancel, order_id=str(order_id))
            waitlist_promote(event=event, at=at)
            expired += 1
    return expired


def _reminders(at: datetime, limit: int) -> int:
    from tessera.events.tasks import event_remind

    horizon = at + timedelta(minutes=settings.EVENTS_REMINDER_BEFORE_MINUTES)
    reminded = 0
    with transaction.atomic():
        due = list(
            Event.objects.select_for_update(skip_locked=True)
            .filter(
                status=sm.PUBLISHED,
                reminded_at__isnull=True,
                starts_at__lte=horizon,
                starts_at__gt=at,
            )
            .values_list("pk", flat=True)[:limit]
        )
        Event.objects.filter(pk__in=due).update(reminded_at=at, updated_at=at)
        # The reminder's row, pending, beside `reminded_at`: a task the broker loses leaves
        # it unsent, and `_reminders_lost` sends the task again.
        EventReminder.objects.bulk_create(
            [
                EventReminder(event_id=event_id, starts_at=starts_at)
                for event_id, starts_at in Event.objects.filter(pk__in=due).values_list(
                    "pk", "starts_at"
                )
            ],
            ignore_conflicts=True,
        )
        for event_id in due:
            enqueue_on_commit(event_remind, event_id=str(event_id))
            reminded += 1
    return reminded


def _reminders_lost(at: datetime, limit: int) -> int:
    """Reminders still unsent `REMINDER_LOST_AFTER` after they were last enqueued or
    advanced by a chunk (the task was lost: a broker restart, a purged queue, a worker
    killed between chunks) are enqueued again, while their event is published and still
    starts then. `event_remind_now` resumes after `told_through` and tells each person at
    most once, so a task that was only late costs nothing."""
    from tessera.events.tasks import event_remind

    with transaction.atomic():
        lost = list(
            EventReminder.objects.select_for_update(skip_locked=True)
            .filter(
                notified_at__isnull=True,
                updated_at__lt=at - REMINDER_LOST_AFTER,
                starts_at__gt=at,
                event__status=sm.PUBLISHED,
                event__starts_at=F("starts_at"),
            )
            .values_list("pk", "event_id")[:limit]
        )
        EventReminder.objects.filter(pk__in=[pk for pk, _ in lost]).update(updated_at=at)
        for _, event_id in lost:
            enqueue_on_commit(event_remind, event_id=str(event_id))
    return len(lost)


def event_remind_now(*, event_id: Any) -> int:
    """Remind a published event's ticket holders of its start, once per start however many
    times this runs (a redelivered task, a sweep enqueueing twice, runs in parallel, a worker
    killed half way).

    People are told in chunks of `REMINDER_CHUNK`, by user id, each chunk in its own
    transaction: make the event's `EventReminder` row for its current start if there is none
    (ON CONFLICT DO NOTHING: a parallel run waits on the unique index until the first
    commits), claim it while still unsent (SKIP LOCKED: a run that finds it locked leaves
    the sending to the one holding it), tell the people after `told_through` (`tell` →
    `notify_many`, in this transaction), and move `told_through` to the last of them; the
    chunk that finds fewer than a full chunk left also sets `notified_at`. A run that dies
    loses only its current chunk, which the next run (a redelivery, or the sweep's
    `_reminders_lost` once `updated_at` is stale) sends; a run after the last chunk finds
    nothing to claim. Returns how many people this run told (0 when the reminder was sent
    already, is being sent by another run, or the event is no longer published)."""
    told = 0
    while True:
        told_now, done = _remind_chunk(event_id=event_id)
        told += told_now
        if done:
            return told


def _remind_chunk(*, event_id: Any) -> tuple[int, bool]:
    """One chunk of `event_remind_now`: how many were told, and whether to stop."""
    from tessera.events.selectors import event_people_ids

    with transaction.atomic():
        event = (
            Event.objects.select_related("venue").filter(pk=event_id, status=sm.PUBLISHED).first()
        )
        if event is None:
            return 0, True
        EventReminder.objects.bulk_create(
            [EventReminder(event=event, starts_at=event.starts_at)], ignore_conflicts=True
        )
        reminder = (
            EventReminder.objects.select_for_update(skip_locked=True)
            .filter(event=event, starts_at=event.starts_at, notified_at__isnull=True)
            .first()
        )
        if reminder is None:
            return 0, True
        people = event_people_ids(
            event_id=event.pk, after=reminder.told_through, limit=REMINDER_CHUNK
        )
        told = tell(users=people, kind="events.reminder", event=event) if people else 0
        update = ["updated_at"]
        if people:
            reminder.told_through = uuid.UUID(people[-1])
            update.append("told_through")
        done = len(people) < REMINDER_CHUNK
        if done:
            reminder.notified_at = now()
            update.append("notified_at")
        reminder.save(update_fields=update)
        return told, done


def events_sweep(*, at: datetime | None = None, limit: int = 1000) -> SweepResult:
    at = at or now()
    with transaction.atomic():
        completed = _moved(Event.objects.all(), sm.EVENT, "complete", at)
        if completed:
            discovery_changed()  # a search `from` a past time showed them
    with transaction.atomic():
        requests = _moved(JoinRequest.objects.all(), sm.REQUEST, "expire", at, waitlisted_at=None)
    with transaction.atomic():
        invites = _moved(Invite.objects.all(), sm.INVITE, "expire", at)
    holds = _holds_expire(at, limit)
    reminded = _reminders(at, limit)
    resent = _reminders_lost(at, limit)
    return SweepResult(completed, requests, invites, holds, reminded, resent)
