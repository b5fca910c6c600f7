"""A fan-out worker in a process of its own, for the test that kills one mid-batch.

    python -m tessera.capsules.tests.fanout_worker <batch size> <pause at batch N>

Runs `capsule_notify_events` on the database named by TEST_DATABASE_URL (the test
settings). When batch N has written its notifications, before its transaction commits, it
prints PAUSED and waits to be killed.
"""

from __future__ import annotations

import os
import sys
import time
from typing import Any

PAUSED = "FANOUT-PAUSED"


def main() -> None:
    batch_size, pause_at = int(sys.argv[1]), int(sys.argv[2])
    os.environ.setdefault("DJANGO_SETTINGS_MODULE", "config.settings.test")
    import django

    django.setup()
    from tessera.capsules.services import sweep

    real = sweep.notify_many
    calls = 0

    def notify_many_then_pause(**kwargs: Any) -> Any:
        nonlocal calls
        result = real(**kwargs)
        calls += 1
        if calls == pause_at:
            print(PAUSED, flush=True)  # noqa: T201 - the parent reads it
            time.sleep(600)
        return result

    sweep.notify_many = notify_many_then_pause
    sweep.capsule_notify_events(batch_size=batch_size)


if __name__ == "__main__":
    main()
