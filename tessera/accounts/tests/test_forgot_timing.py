"""POST /password/forgot takes as long for an unknown address as for a known one.

Before the fix, a known address cost a code row, a rendered email and an audit row in the
request: 12-14 ms more on an idle machine, enough to enumerate accounts (2.0-2.6 ms more under
these test settings, with a within-side IQR of 0.2-0.4 ms: this test failed on it every time).
Now the request queues the same task either way and the task decides (medians within a few
microseconds here, idle or with three busy loops beside it).

How the comparison is kept from being flaky on a loaded machine (this is a correctness test
with a statistical bound, not a benchmark):
- Runs are interleaved in pairs, and which address goes first alternates, so a burst of load
  from another process hits both sides alike and neither always runs on a warmer cache.
- Medians, not means: a few requests stalled by the scheduler move a mean, not a median.
- The bound scales with the noise measured in the same run: the two medians may differ by
  at most 0.75 x the interquartile range within a side (their average), and never less than
  0.5 ms. With n = 61 per side the standard error of a difference of medians is about
  1.31 x IQR / sqrt(n) = 0.17 x IQR, so the bound sits at ~4.5 standard errors: a chance
  failure is below 1 in 100,000, while the old leak fails it by a wide margin. The 0.5 ms
  floor keeps sub-millisecond jitter on a very quiet machine from tripping it; the leak was
  4 to 25 times that.
"""

from __future__ import annotations

import statistics
import time
from typing import Any

import pytest

from tests.fixtures import ApiClient

pytestmark = pytest.mark.django_db

RUNS = 61
WARM_UP = 8
RELATIVE_BOUND = 0.75
FLOOR_SECONDS = 0.0005


def _timed_forgot(client: ApiClient, email: str) -> float:
    started = time.perf_counter()
    response = client.post("/api/auth/password/forgot", {"email": email})
    elapsed = time.perf_counter() - started
    assert response.status_code == 202
    return elapsed


def _iqr(samples: list[float]) -> float:
    quartiles = statistics.quantiles(samples, n=4)
    return quartiles[2] - quartiles[0]


def test_forgot_password_takes_as_long_for_unknown_addresses(user: Any, settings: Any) -> None:
    settings.REQUEST_RATE_LIMITS_ENABLED = False  # 2 x 69 requests from one address
    client = ApiClient()
    known, unknown = "ada@example.com", "nobody@example.com"
    for _ in range(WARM_UP):
        _timed_forgot(client, known)
        _timed_forgot(client, unknown)

    times: dict[str, list[float]] = {known: [], unknown: []}
    for index in range(RUNS):
        order = (known, unknown) if index % 2 == 0 else (unknown, known)
        for email in order:
            times[email].append(_timed_forgot(client, email))

    difference = abs(statistics.median(times[known]) - statistics.median(times[unknown]))
    spread = (_iqr(times[known]) + _iqr(times[unknown])) / 2
    bound = max(RELATIVE_BOUND * spread, FLOOR_SECONDS)
    assert difference <= bound, (
        f"medians differ by {difference * 1000:.2f} ms (bound {bound * 1000:.2f} ms, "
        f"within-side IQR {spread * 1000:.2f} ms): known "
        f"{statistics.median(times[known]) * 1000:.2f} ms, unknown "
        f"{statistics.median(times[unknown]) * 1000:.2f} ms"
    )
