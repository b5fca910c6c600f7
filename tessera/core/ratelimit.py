"""Sliding-window rate limits on the `limits` library.

Redis holds the counters when `RATE_LIMIT_STORAGE_URL` (or `REDIS_URL`) is set; otherwise
Django's cache (the database cache in the embedded default) does, through
`DjangoCacheStorage` below.
"""

from __future__ import annotations

import math
import threading
import time
from collections.abc import Callable
from contextvars import ContextVar
from dataclasses import dataclass
from functools import lru_cache
from typing import Any, Literal, cast

from django.conf import settings
from django.core.cache import cache
from django.http import HttpRequest
from limits import RateLimitItem, parse
from limits.storage import SlidingWindowCounterSupport, Storage, storage_from_string
from limits.storage.base import TimestampedSlidingWindow
from limits.strategies import SlidingWindowCounterRateLimiter
from ninja.throttling import BaseThrottle

from tessera.core.client_ip import client_ip
from tessera.core.outages import outage_report


class DjangoCacheStorage(Storage, SlidingWindowCounterSupport, TimestampedSlidingWindow):
    """`limits` storage on Django's cache framework (the embedded default's database cache).

    `cache.add` then `cache.incr` keeps counting atomic on back ends where `incr` is atomic;
    on the database cache two racing hits may count once, which errs towards letting a
    request through, never towards refusing one wrongly.
    """

    STORAGE_SCHEME = ["djangocache"]

    def __init__(self, uri: str = "djangocache://", **options: Any) -> None:
        super().__init__(uri, wrap_exceptions=False, **options)

    @property
    def base_exceptions(self) -> type[Exception] | tuple[type[Exception], ...]:
        return (OSError,)

    def incr(self, key: str, expiry: int, amount: int = 1) -> int:
        if cache.add(key, amount, timeout=expiry):
            return amount
        try:
            return int(cache.incr(key, amount))
        except ValueError:  # expired between add and incr
            cache.set(key, amount, timeout=expiry)
            return amount

    def get(self, key: str) -> int:
        return int(cache.get(key, 0))

    def get_expiry(self, key: str) -> float:
        return time.time()

    def check(self) -> bool:
        return True

    def reset(self) -> int | None:
        return None

    def clear(self, key: str) -> None:
        cache.delete(key)

    def acquire_sliding_window_entry(
        self, key: str, limit: int, expiry: int, amount: int = 1
    ) -> bool:
        if amount > limit:
            return False
        now = time.time()
        previous_key, current_key = self.sliding_window_keys(key, expiry, now)
        previous_count, previous_ttl, current_count, _ = self._window(
            previous_key, current_key, expiry, now
        )
        if math.floor(previous_count * previous_ttl / expiry + current_count) + amount > limit:
            return False
        self.incr(current_key, 2 * expiry, amount)
        return True

    def get_sliding_window(self, key: str, expiry: int) -> tuple[int, float, int, float]:
        now = time.time()
        previous_key, current_key = self.sliding_window_keys(key, expiry, now)
        return self._window(previous_key, current_key, expiry, now)

    def clear_sliding_window(self, key: str, expiry: int) -> None:
        previous_key, current_key = self.sliding_window_keys(key, expiry, time.time())
        cache.delete_many([previous_key, current_key])

    def _window(
        self, previous_key: str, current_key: str, expiry: int, now: float
    ) -> tuple[int, float, int, float]:
        values = cache.get_many([previous_key, current_key])
        previous_count = int(values.get(previous_key, 0))
        current_count = int(values.get(current_key, 0))
        previous_ttl = 0.0 if previous_count == 0 else (1 - ((now - expiry) / expiry) % 1) * expiry
        current_ttl = (1 - (now / expiry) % 1) * expiry + expiry
        return previous_count, previous_ttl, current_count, current_ttl


STORAGE_DOWN_RETRY_AFTER = 5
_last_retry_after: ContextVar[int | None] = ContextVar("tessera_retry_after", default=None)


@lru_cache(maxsize=1)
def limiter() -> SlidingWindowCounterRateLimiter:
    url = settings.RATE_LIMIT_STORAGE_URL
    if not url:
        return SlidingWindowCounterRateLimiter(DjangoCacheStorage())
    options: dict[str, Any] = {}
    if url.startswith(("redis://", "rediss://")):
        # Fail fast as the cache does when the server is gone (settings.REDIS_CACHE_OPTIONS).
        options = dict(settings.REDIS_CACHE_OPTIONS)
    storage = storage_from_string(url, **options)
    return SlidingWindowCounterRateLimiter(storage)


def shared_storage() -> SlidingWindowCounterSupport:
    """The storage every process shares (Redis, or Django's cache)."""
    return cast(SlidingWindowCounterSupport, limiter().storage)


@lru_cache(maxsize=64)
def parse_rate(rate: str) -> RateLimitItem:
    return parse(rate)


@dataclass(frozen=True)
class Decision:
    allowed: bool
    retry_after: int


def hit(rate: str, scope: str, identity: str) -> Decision:
    """Count one request of `identity` against `rate` in `scope`; say whether it may pass."""
    item = parse_rate(rate)
    rate_limiter = limiter()
    if rate_limiter.hit(item, scope, identity):
        return Decision(allowed=True, retry_after=0)
    reset_at, _remaining = rate_limiter.get_window_stats(item, scope, identity)
    # At `reset_at` itself the old window still counts in full: the first whole second
    # strictly after it is the earliest moment a retry can pass.
    return Decision(allowed=False, retry_after=max(1, math.floor(reset_at - time.time()) + 1))


def request_limits_enabled() -> bool:
    """Whether request rate limits apply (`REQUEST_RATE_LIMITS_ENABLED`; false under its old
    name, `RATE_LIMIT_ENABLED`, turns them off too). Lock-outs and one-time code caps do not
    ask: they protect accounts, not capacity (see config/settings/base.py)."""
    return bool(settings.REQUEST_RATE_LIMITS_ENABLED and settings.RATE_LIMIT_ENABLED)


def reset_all(rate: str, scope: str, identity: str) -> None:
    limiter().clear(parse_rate(rate), scope, identity)


class RateLimit(BaseThrottle):
    """A per-route limit: `@router.post(..., throttle=[RateLimit("5/15minutes", key="ip")])`.

    `key="ip"` counts per client address, `key="user"` per authenticated user (falling back to
    the address for anonymous callers).
    """

    def __init__(self, rate: str, *, key: Literal["ip", "user"] = "ip", scope: str = "") -> None:
        parse_rate(rate)  # fail at import time on a typo, not at the first request
        self.rate = rate
        self.key = key
        self.scope = scope

    def identity(self, request: HttpRequest) -> str:
        if self.key == "user":
            auth = getattr(request, "auth", None)
            user_id = getattr(auth, "pk", None) or getattr(auth, "id", None)
            if user_id is not None:
                return f"user:{user_id}"
        return f"ip:{client_ip(request)}"

    def allow_request(self, request: HttpRequest) -> bool:
        if not request_limits_enabled():
            return True
        scope = self.scope or f"route:{request.method}:{request.path_info}"
        try:
            decision = hit(self.rate, scope, self.identity(request))
        except Exception as exc:  # noqa: BLE001 - any storage failure fails closed
            # Per-route limits guard sign-in, codes and money: without their counters the
            # request is refused (429, retry shortly), never let through unmetered.
            outage_report("rate-limit storage", exc, event="rate_limit_storage_unavailable")
            decision = Decision(allowed=False, retry_after=STORAGE_DOWN_RETRY_AFTER)
        _last_retry_after.set(decision.retry_after)
        return decision.allowed

    def wait(self) -> float | None:
        # Ninja asks for the wait right after allow_request() in the same thread, without the
        # request; instances are shared between threads, so the value travels in a ContextVar.
        return _last_retry_after.get()


@dataclass
class _LocalWindow:
    synced_count: float
    synced_at: float
    expiry: int
    pending: int = 0
    syncing: bool = False  # one request is pushing this window's hits to the shared storage


class LocalFirstLimiter:
    """The default per-IP limit on every API request, without a Redis round trip for each.

    Far from its limit, a client's hits are counted in this process and flushed to the shared
    storage (the same sliding windows `limiter()` uses) at most every `sync_interval` seconds:
    the first hit after the interval makes the round trip, and the process's other threads go
    on counting locally meanwhile (under load a round trip can take milliseconds, and a worker
    whose threads all waited for Redis would stall). Once a client's count reaches
    `exact_fraction` of its limit, or for its first request, every hit goes to the shared
    storage and is decided there exactly. Per-route limits (auth, money) always take the
    exact path.

    The bound this buys: between two syncs, the other worker processes may each admit up to
    `exact_fraction` of the limit that this one has not seen yet — so a client can exceed its
    limit only by bursting faster than the sync interval across several processes.
    """

    _UNLIMITED = 2**62
    _MAX_TRACKED = 50_000

    def __init__(
        self,
        *,
        sync_interval: float = 0.1,
        exact_fraction: float = 0.5,
        clock: Callable[[], float] = time.monotonic,
    ) -> None:
        self.clock = clock
        self.sync_interval = sync_interval
        self.exact_fraction = exact_fraction
        self._windows: dict[str, _LocalWindow] = {}
        # `key_for` escapes and joins its parts on every call: each client's key is built once.
        self._keys: dict[tuple[str, str, str], tuple[RateLimitItem, str]] = {}
        self._lock = threading.Lock()

    def hit(self, rate: str, scope: str, identity: str) -> Decision:
        named = self._keys.get((rate, scope, identity))
        if named is None:
            if len(self._keys) >= self._MAX_TRACKED:
                self._keys.clear()
            item = parse_rate(rate)
            named = self._keys[(rate, scope, identity)] = (item, item.key_for(scope, identity))
        item, key = named
        now = self.clock()
        with self._lock:
            window = self._windows.get(key)
            pending = 0
            if window is not None:
                if window.synced_count + window.pending + 1 <= item.amount * self.exact_fraction:
                    if window.syncing or now - window.synced_at < self.sync_interval:
                        window.pending += 1
                        return _ALLOWED
                    window.syncing = True  # this request syncs; the others keep counting
                pending, window.pending = window.pending, 0
        return self._exact_hit(item, key, identity=(scope, identity), pending=pending, now=now)

    def _exact_hit(
        self,
        item: RateLimitItem,
        key: str,
        *,
        identity: tuple[str, str],
        pending: int,
        now: float,
    ) -> Decision:
        storage = shared_storage()
        expiry = item.get_expiry()
        try:
            if pending:
                storage.acquire_sliding_window_entry(key, self._UNLIMITED, expiry, pending)
                pending = 0
            allowed = storage.acquire_sliding_window_entry(key, item.amount, expiry, 1)
            previous, previous_ttl, current, _current_ttl = storage.get_sliding_window(key, expiry)
        except Exception:
            with self._lock:  # what was not pushed is owed still; the next hit tries again
                window = self._windows.get(key)
                if window is not None:
                    window.pending += pending
                    window.syncing = False
            raise
        with self._lock:
            if len(self._windows) >= self._MAX_TRACKED:
                self._forget_stale(now)
            counted_meanwhile = self._windows[key].pending if key in self._windows else 0
            self._windows[key] = _LocalWindow(
                synced_count=previous * previous_ttl / expiry + current,
                synced_at=now,
                expiry=expiry,
                pending=counted_meanwhile,
            )
        if allowed:
            return _ALLOWED
        reset_at, _remaining = limiter().get_window_stats(item, *identity)
        return Decision(allowed=False, retry_after=max(1, math.floor(reset_at - time.time()) + 1))

    def _forget_stale(self, now: float) -> None:
        # Windows that still owe hits to the shared storage are kept.
        stale = [
            key
            for key, window in self._windows.items()
            if now - window.synced_at > self.sync_interval and not window.pending
        ]
        for key in stale:
            del self._windows[key]

    def flush(self) -> None:
        """Push every pending count to the shared storage (tests, shutdown)."""
        with self._lock:
            owed = [(key, w.expiry, w.pending) for key, w in self._windows.items() if w.pending]
            for window in self._windows.values():
                window.pending = 0
        for key, expiry, pending in owed:
            shared_storage().acquire_sliding_window_entry(key, self._UNLIMITED, expiry, pending)


_ALLOWED = Decision(allowed=True, retry_after=0)


@lru_cache(maxsize=1)
def default_limiter() -> LocalFirstLimiter:
    return LocalFirstLimiter()
