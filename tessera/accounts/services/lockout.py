"""Lock-out after repeated failed password logins, per account and per client address.

Failures are counted with the platform's rate-limit counters (Redis in services mode, the
cache in the embedded default), in a sliding window of `AUTH_LOCKOUT_SECONDS`. Accounts are
keyed by the normalised email typed, whether or not an account has it, so a lock-out says
nothing about which addresses exist. A successful login clears the account's count.
"""

from __future__ import annotations

import hashlib
import math
import time
from dataclasses import dataclass

from django.conf import settings

from tessera.core import ratelimit

SCOPE = "auth-login-failures"


def _rate() -> str:
    return f"{settings.AUTH_LOCKOUT_FAILURES}/{settings.AUTH_LOCKOUT_SECONDS}seconds"


def _account_key(email: str) -> str:
    return "account:" + hashlib.sha256(email.strip().lower().encode()).hexdigest()[:32]


def _ip_key(ip: str) -> str:
    return f"ip:{ip}"


@dataclass(frozen=True)
class LockState:
    locked: bool
    retry_after: int


def _state(identity: str) -> LockState:
    item = ratelimit.parse_rate(_rate())
    limiter = ratelimit.limiter()
    if limiter.test(item, SCOPE, identity):
        return LockState(locked=False, retry_after=0)
    reset_at, _remaining = limiter.get_window_stats(item, SCOPE, identity)
    return LockState(locked=True, retry_after=max(1, math.floor(reset_at - time.time()) + 1))


def lockout_check(*, email: str, ip: str) -> LockState:
    """Whether this account or this address is locked out now, and for how long."""
    for identity in (_account_key(email), _ip_key(ip)):
        state = _state(identity)
        if state.locked:
            return state
    return LockState(locked=False, retry_after=0)


def lockout_record_failure(*, email: str, ip: str) -> bool:
    """Count one failure against the account and the address; True if either is now locked."""
    item = ratelimit.parse_rate(_rate())
    limiter = ratelimit.limiter()
    now_locked = False
    for identity in (_account_key(email), _ip_key(ip)):
        limiter.hit(item, SCOPE, identity)
        if not limiter.test(item, SCOPE, identity):
            now_locked = True
    return now_locked


def lockout_clear_account(*, email: str) -> None:
    ratelimit.limiter().clear(ratelimit.parse_rate(_rate()), SCOPE, _account_key(email))
