"""Fixtures shared by the payments and wallet tests (imported by both conftests)."""

from __future__ import annotations

from collections.abc import Iterator
from typing import Any

import pytest

from tessera.payments import hooks
from tessera.payments.tests.helpers import TEST_PURPOSE, RecordingHandler


@pytest.fixture
def handler() -> Iterator[RecordingHandler]:
    """A product registered for the purpose `tests.thing`."""
    recording = RecordingHandler()
    hooks.register(TEST_PURPOSE, recording)
    yield recording
    hooks.unregister(TEST_PURPOSE)


@pytest.fixture(autouse=True)
def _payments_settings(settings: Any) -> None:
    settings.PAYMENTS_PROVIDER = "sandbox"
    settings.PAYMENTS_PUBLIC_URL = "http://testserver"
    settings.PAYMENTS_SANDBOX_WEBHOOK_URL = "http://testserver/webhooks/sandbox"
    settings.PAYMENTS_SANDBOX_PAYOUT_DELAY_SECONDS = 0


@pytest.fixture
def sandbox_wire(db: Any) -> Iterator[None]:
    """The sandbox's webhooks reach /webhooks/sandbox through the real WSGI stack,
    in-process (no socket), so a whole flow runs inside one test."""
    import httpx

    from tessera.payments import sandbox
    from tests.fixtures import _KeepingConnections

    sandbox.http_transport = httpx.WSGITransport(app=_KeepingConnections())
    yield
    sandbox.http_transport = None
