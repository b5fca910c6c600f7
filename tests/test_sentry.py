"""With SENTRY_DSN set, an unhandled error reaches Sentry: a subprocess starts Django with a
DSN that points at a local HTTP server and raises; the server receives the event."""

from __future__ import annotations

import os
import subprocess
import sys
from pathlib import Path

from tests.http_recorder import recording_server

ROOT = Path(__file__).resolve().parent.parent

SCRIPT = """
import django, sentry_sdk
django.setup()
try:
    raise RuntimeError("sentry wiring check")
except RuntimeError as exc:
    sentry_sdk.capture_exception(exc)
sentry_sdk.flush(timeout=10)
"""


def test_errors_are_sent_to_the_configured_sentry() -> None:
    with recording_server(reply={"id": "0"}) as sentry:
        host = sentry.url.removeprefix("http://")
        env = {
            **os.environ,
            "DJANGO_SETTINGS_MODULE": "config.settings.dev",
            "SENTRY_DSN": f"http://publickey@{host}/42",
            "SENTRY_ENVIRONMENT": "ci-check",
        }
        subprocess.run([sys.executable, "-c", SCRIPT], cwd=ROOT, env=env, check=True, timeout=60)

    assert sentry.requests, "Sentry received nothing"
    request = sentry.requests[0]
    assert request.path.startswith("/api/42/envelope/")
    assert b"sentry wiring check" in request.body
    assert b"ci-check" in request.body
