"""The product events of time capsules (tessera.core.analytics), kept out of the services so
that they stay one line there."""

from __future__ import annotations

from datetime import datetime

from tessera.capsules.models import Capsule
from tessera.core.analytics import AnalyticsEvent, analytics_capture


def capsule_sealed_capture(capsule: Capsule, *, now: datetime) -> None:
    unlock = capsule.scheduled_unlock_at
    analytics_capture(
        distinct_id=capsule.sender_id,
        event=AnalyticsEvent.CAPSULE_SEALED,
        properties={
            "days_until_unlock": round((unlock - now).total_seconds() / 86400) if unlock else None,
            "receiver_has_account": capsule.receiver_id is not None,
            "allow_early_view": capsule.allow_early_view,
        },
    )


def capsule_opened_capture(capsule: Capsule, *, now: datetime) -> None:
    sealed = capsule.sealed_at
    analytics_capture(
        distinct_id=capsule.receiver_id,
        event=AnalyticsEvent.CAPSULE_OPENED,
        properties={
            "days_sealed": round((now - sealed).total_seconds() / 86400) if sealed else None
        },
    )
