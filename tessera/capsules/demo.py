"""Demo capsules between demo@tessera.local and amal@tessera.local (idempotent).

A few capsules in each state, and one sealed to unlock about a minute after the demo is
first loaded, so a new user sees the sweep move it to READY. Demo data is added once:
running `load()` again adds nothing, whatever became of those capsules.
"""

from __future__ import annotations

from datetime import timedelta

from django.utils import timezone

from tessera.accounts.selectors import user_get_by_email
from tessera.capsules.models import UNFOLD_BEFORE, Capsule, CapsuleState

DEMO_THEME = "demo"
SOON = timedelta(seconds=65)


def load() -> int:
    demo = user_get_by_email(email="demo@tessera.local")
    amal = user_get_by_email(email="amal@tessera.local")
    if demo is None or amal is None:
        return 0
    if Capsule.objects.filter(sender__in=[demo, amal], theme=DEMO_THEME).exists():
        return 0
    now = timezone.now()
    created = 0
    # (sender, receiver, state, unlock offset, sealed ago, title)
    specs = [
        (demo, amal, CapsuleState.DRAFT, None, None, "Ideas for our trip (draft)"),
        (
            amal,
            demo,
            CapsuleState.SEALED,
            timedelta(days=30),
            timedelta(days=1),
            "For your next birthday",
        ),
        (
            demo,
            amal,
            CapsuleState.SEALED,
            timedelta(days=400),
            timedelta(days=2),
            "One year from now",
        ),
        (
            amal,
            demo,
            CapsuleState.UNFOLDING,
            timedelta(days=2),
            timedelta(days=20),
            "Almost there",
        ),
        (
            amal,
            demo,
            CapsuleState.READY,
            timedelta(hours=-2),
            timedelta(days=40),
            "Open me: it is time",
        ),
        (
            demo,
            amal,
            CapsuleState.READY,
            timedelta(hours=-5),
            timedelta(days=10),
            "Remember this day",
        ),
        (
            amal,
            demo,
            CapsuleState.OPENED,
            timedelta(days=-3),
            timedelta(days=60),
            "Our first letter",
        ),
    ]
    for sender, receiver, state, unlock_in, sealed_ago, title in specs:
        unlock_at = now + unlock_in if unlock_in is not None else None
        sealed_at = now - sealed_ago if sealed_ago is not None else None
        Capsule.objects.create(
            sender=sender,
            receiver=receiver,
            title=title,
            body=f"{title}. Written on Tessera for {receiver.name or receiver.email}.",
            theme=DEMO_THEME,
            state=state,
            allow_early_view=state == CapsuleState.UNFOLDING,
            allow_receiver_reply=True,
            sealed_at=sealed_at,
            scheduled_unlock_at=unlock_at,
            unfolds_at=unlock_at - UNFOLD_BEFORE if unlock_at and sealed_at else None,
            opened_at=now - timedelta(days=2) if state == CapsuleState.OPENED else None,
        )
        created += 1
    Capsule.objects.create(
        sender=amal,
        receiver=demo,
        title="A minute from now",
        body="Hello! The sweep moved this capsule to READY a minute after the demo was loaded.",
        theme=DEMO_THEME,
        state=CapsuleState.SEALED,
        sealed_at=now,
        scheduled_unlock_at=now + SOON,
    )
    return created + 1
