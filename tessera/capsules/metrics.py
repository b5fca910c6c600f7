"""The capsule sweep's lag for /metrics (tessera.core.metrics.register_gauge): how long the
most overdue capsule has waited past its unlock time without the sweep moving it. Read with
the sweep's own partial index (state sealed/unfolding, ordered by unlock time)."""

from __future__ import annotations

from collections.abc import Iterable

from django.utils import timezone

from tessera.capsules.models import Capsule, CapsuleState
from tessera.core.metrics import register_gauge


def sweep_lag() -> Iterable[tuple[tuple[str, ...], float]]:
    now = timezone.now()
    oldest = (
        Capsule.objects.filter(
            state__in=[CapsuleState.SEALED, CapsuleState.UNFOLDING],
            scheduled_unlock_at__lte=now,
        )
        .order_by("scheduled_unlock_at")
        .values_list("scheduled_unlock_at", flat=True)
        .first()
    )
    yield (), (now - oldest).total_seconds() if oldest is not None else 0.0


def register() -> None:
    register_gauge(
        "tessera_capsule_sweep_lag_seconds",
        "How long the most overdue sealed capsule has waited past its unlock time (0: none).",
        sweep_lag,
    )
