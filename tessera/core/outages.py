"""Outages of a backing service (the Redis cache, rate-limit storage): told once per interval.

A dead cache makes every request that touches it fail the same way. Logging each one (with
its traceback) floods the log and costs each request the formatting; this module logs the
first failure of `service` at once, then at most one line per `OUTAGE_LOG_INTERVAL_SECONDS`
saying how many more requests met it since:

    try:
        entry = cache.get(key)
    except CACHE_CONNECTION_ERRORS as exc:
        outage_report("cache", exc, event="content.cache_unavailable")
        entry = None

Catch only the errors that mean "cannot reach the server" (`CACHE_CONNECTION_ERRORS`): a
database or programming error is not an outage and must surface as the error it is.
"""

from __future__ import annotations

import threading
import time
from dataclasses import dataclass

import structlog
from django.conf import settings
from redis.exceptions import ConnectionError as RedisConnectionError
from redis.exceptions import TimeoutError as RedisTimeoutError

logger = structlog.get_logger("tessera.outages")

# What Django's Redis cache back end (and the `limits` Redis storage) raise when the server
# cannot be reached or does not answer in time: refused, reset, DNS failure, timeouts.
CACHE_CONNECTION_ERRORS: tuple[type[Exception], ...] = (RedisConnectionError, RedisTimeoutError)


@dataclass
class _Outage:
    reported_at: float
    unreported: int = 0


_outages: dict[str, _Outage] = {}
_lock = threading.Lock()


def outage_report(service: str, error: BaseException, *, event: str, level: str = "error") -> bool:
    """Count one failure of `service`; log `event` (with the error, without a traceback) if
    none was logged for it in the last interval. Returns whether this call logged."""
    interval = settings.OUTAGE_LOG_INTERVAL_SECONDS
    now = time.monotonic()
    with _lock:
        outage = _outages.get(service)
        if outage is not None and now - outage.reported_at < interval:
            outage.unreported += 1
            return False
        unreported = outage.unreported if outage is not None else 0
        _outages[service] = _Outage(reported_at=now)
    getattr(logger, level)(
        event,
        service=service,
        error=f"{type(error).__name__}: {error}",
        unreported_since_last=unreported,
        next_report_within_seconds=interval,
    )
    return True


def outages_forget() -> None:
    """Start afresh (tests)."""
    with _lock:
        _outages.clear()
