"""Thin Celery wrappers over the capsule services."""

from __future__ import annotations

import time
from typing import Any

from celery import shared_task
from django.conf import settings

from tessera.capsules import selectors, services
from tessera.core.jobs import TesseraTask


@shared_task(base=TesseraTask, name="capsules.unlock_sweep")
def capsule_unlock_sweep() -> dict[str, int]:
    """Beat, every 60 s: move due capsules; their notifications follow in another task."""
    result = services.capsule_unlock_sweep()
    return {"readied": result.readied, "unfolded": result.unfolded}


@shared_task(base=TesseraTask, bind=True, name="capsules.notify_events")
def capsule_notify_events(self: Any, batch_size: int = services.NOTIFY_BATCH) -> int:
    """Notify the receivers of pending events, a claimed batch at a time, for at most
    `CAPSULE_NOTIFY_TIME_BUDGET_SECONDS` (well inside the task time limit); when the time
    ran out with events left, a fresh task carries on. (One that found nothing to claim
    stops: what other workers hold is theirs, and the sweep looks again every minute.)"""
    budget = settings.CAPSULE_NOTIFY_TIME_BUDGET_SECONDS
    started = time.monotonic()
    handled = services.capsule_notify_events(batch_size=batch_size, time_budget_seconds=budget)
    ran_out = time.monotonic() - started >= budget
    if ran_out and not self.request.is_eager and selectors.events_pending():
        self.apply_async(kwargs={"batch_size": batch_size})
    return handled
