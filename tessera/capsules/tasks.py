"""Thin Celery wrappers over the capsule services."""

from __future__ import annotations

from celery import shared_task

from tessera.capsules import services
from tessera.core.jobs import TesseraTask


@shared_task(base=TesseraTask, name="capsules.unlock_sweep")
def capsule_unlock_sweep() -> dict[str, int]:
    """Beat, every 60 s: move due capsules; their notifications follow in another task."""
    result = services.capsule_unlock_sweep()
    return {"readied": result.readied, "unfolded": result.unfolded}


@shared_task(base=TesseraTask, name="capsules.notify_events")
def capsule_notify_events(batch_size: int = 500) -> int:
    return services.capsule_notify_events(batch_size=batch_size)
