"""Fixtures for the platform tests: JSON bodies, a frozen clock, a fresh rate limiter."""

from __future__ import annotations

import time
from collections.abc import Iterator
from typing import Any

import orjson
import pytest

from tessera.core import ratelimit


def body(response: Any) -> Any:
    return orjson.loads(response.content)


class FrozenClock:
    """`time.time()` standing still until `advance()` moves it."""

    def __init__(self, now: float) -> None:
        self.now = now

    def __call__(self) -> float:
        return self.now

    def advance(self, seconds: float) -> None:
        self.now += seconds


@pytest.fixture
def clock(monkeypatch: pytest.MonkeyPatch) -> FrozenClock:
    # The limiter, `limits` and the locmem cache's expiry all read `time.time()`, so one
    # patch moves every window and every cached counter together. An instant 20 s into a
    # minute keeps the arithmetic below readable.
    frozen = FrozenClock(float(int(time.time()) // 3600 * 3600 + 20))
    monkeypatch.setattr(time, "time", frozen)
    return frozen


@pytest.fixture
def fresh_limiter() -> Iterator[None]:
    """The limiter caches its storage; drop it around tests that change RATE_LIMIT_*."""
    ratelimit.limiter.cache_clear()
    yield
    ratelimit.limiter.cache_clear()
