"""Test helpers: capsules in a given state with a given unlock time."""

from __future__ import annotations

from datetime import datetime, timedelta
from typing import Any

from django.utils import timezone

from tessera.capsules.models import UNFOLD_BEFORE, Capsule, CapsuleState


def make_capsule(
    *,
    sender: Any,
    receiver: Any,
    state: str = CapsuleState.SEALED,
    unlock_in: timedelta = timedelta(days=10),
    sealed_ago: timedelta = timedelta(days=30),
    now: datetime | None = None,
    **fields: Any,
) -> Capsule:
    now = now or timezone.now()
    unlock_at = now + unlock_in
    sealed_at = now - sealed_ago
    fields.setdefault("title", "Hello future")
    fields.setdefault("body", "Secret words")
    unfolds_at = unlock_at - UNFOLD_BEFORE
    return Capsule.objects.create(
        sender=sender,
        receiver=receiver,
        state=state,
        sealed_at=None if state == CapsuleState.DRAFT else sealed_at,
        scheduled_unlock_at=None if state == CapsuleState.DRAFT else unlock_at,
        unfolds_at=unfolds_at if unfolds_at > sealed_at else None,
        **fields,
    )
