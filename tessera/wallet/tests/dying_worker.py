"""A real Celery worker (solo pool) that kills itself, once, right after a webhook's
processing committed and before the broker heard it was done: `os._exit` in
`task_postrun`, as a SIGKILL or a lost machine would. Used by test_worker_crash.py; the
marker file makes only the first worker die."""

from __future__ import annotations

import os
import sys
from pathlib import Path
from typing import Any

sys.path.insert(0, str(Path(__file__).resolve().parents[3]))
os.environ.setdefault("DJANGO_SETTINGS_MODULE", "config.settings.dev")

import django

django.setup()

from celery import signals  # noqa: E402

from config.celery import app  # noqa: E402

MARKER = Path(os.environ["DYING_WORKER_MARKER"])


@signals.task_postrun.connect
def _die_before_the_ack(sender: Any = None, **_: Any) -> None:
    if sender is not None and sender.name == "payments.process_webhook" and not MARKER.exists():
        MARKER.write_text("died")
        os._exit(9)


if __name__ == "__main__":
    app.worker_main(
        [
            "worker",
            "--pool",
            "solo",
            "-l",
            "INFO",
            "--without-gossip",
            "--without-mingle",
            "-Q",
            os.environ["DYING_WORKER_QUEUE"],
        ]
    )
