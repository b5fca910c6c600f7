"""What failed password logins cost, so that nobody can lock an owner out of their account.

Three counters, as OWASP's authentication guidance describes (a lock on what the attacker
controls, a delay that grows on the account, and device cookies for its owner):

- **The (account, address) pair.** `AUTH_LOCKOUT_FAILURES` failures in
  `AUTH_LOCKOUT_SECONDS` lock that account *from that address* for the rest of the window.
  The attacker's address is locked for that account; the owner elsewhere is not.
- **The address.** The same number of failures from one address, whatever the accounts,
  lock the address out of every account it is not known for (credential stuffing).
- **The account.** Its failures from every address are remembered for
  `AUTH_LOGIN_DELAY_MEMORY_SECONDS`. After `AUTH_LOGIN_DELAY_AFTER_FAILURES` of them, each
  further attempt from an unknown client must wait a delay that doubles with every
  failure (`AUTH_LOGIN_DELAY_BASE_SECONDS` up to `AUTH_LOGIN_DELAY_MAX_SECONDS`), and one
  attempt at a time is let through: a distributed guesser gets about one guess per delay,
  the owner waits seconds to minutes, never a fixed lock.

A client is *known* for an account when it holds a device token (a signed cookie set by an
earlier successful password login on that device, OWASP's "device cookie") naming the
account, or when it comes from an address the account signed in from successfully in the
last `AUTH_KNOWN_ADDRESS_DAYS`. Known clients skip the account's delay and the address
lock; the pair lock applies to everyone.

Accounts are keyed by the normalised email typed, whether or not an account has it, so none
of this says which addresses exist. A successful login clears the pair and the account's
count. Counters live in the platform's rate-limit storage and cache (Redis in services mode);
none of them is switched off by `REQUEST_RATE_LIMITS_ENABLED`.
"""

from __future__ import annotations

import hashlib
import math
import time
from dataclasses import dataclass
from datetime import timedelta

from django.conf import settings
from django.core import signing
from django.core.cache import cache
from django.utils import timezone

from tessera.accounts.models import AuthSession
from tessera.core import ratelimit

SCOPE = "auth-login-failures"
DEVICE_COOKIE = "tessera_device"
DEVICE_SALT = "tessera.accounts.device"
DEVICE_MAX_ACCOUNTS = 5
_ACCOUNT_PREFIX = "auth-login-delay:"


def _clock() -> float:
    return time.time()


def account_key(email: str) -> str:
    return hashlib.sha256(email.strip().lower().encode()).hexdigest()[:32]


def _rate() -> str:
    return f"{settings.AUTH_LOCKOUT_FAILURES}/{settings.AUTH_LOCKOUT_SECONDS}seconds"


def _pair_identity(email: str, ip: str) -> str:
    return "pair:" + hashlib.sha256(f"{account_key(email)}|{ip}".encode()).hexdigest()[:32]


def _ip_identity(ip: str) -> str:
    return f"ip:{ip}"


@dataclass(frozen=True)
class LockState:
    """`locked`: the pair or the address is locked out. `throttled`: the account's delay is
    running (or another attempt holds its turn). `retry_after`: seconds to wait."""

    locked: bool = False
    throttled: bool = False
    retry_after: int = 0

    @property
    def refused(self) -> bool:
        return self.locked or self.throttled


OPEN = LockState()


def _lock_state(identity: str) -> LockState:
    item = ratelimit.parse_rate(_rate())
    limiter = ratelimit.limiter()
    if limiter.test(item, SCOPE, identity):
        return OPEN
    reset_at, _remaining = limiter.get_window_stats(item, SCOPE, identity)
    return LockState(locked=True, retry_after=max(1, math.floor(reset_at - time.time()) + 1))


# --- The account's growing delay ------------------------------------------------------------


def _failures_key(email: str) -> str:
    return f"{_ACCOUNT_PREFIX}{account_key(email)}:failures"


def _last_key(email: str) -> str:
    return f"{_ACCOUNT_PREFIX}{account_key(email)}:last"


def delay_for(failures: int) -> int:
    """Seconds an unknown client waits after the account's `failures`-th failure."""
    free = settings.AUTH_LOGIN_DELAY_AFTER_FAILURES
    if failures < free:
        return 0
    doublings = min(failures - free, 32)
    return int(
        min(
            settings.AUTH_LOGIN_DELAY_BASE_SECONDS * 2**doublings,
            settings.AUTH_LOGIN_DELAY_MAX_SECONDS,
        )
    )


def account_failures(email: str) -> tuple[int, float]:
    """The account's remembered failures and when the last one happened."""
    values = cache.get_many([_failures_key(email), _last_key(email)])
    return int(values.get(_failures_key(email), 0)), float(values.get(_last_key(email), 0.0))


def _account_state(email: str, *, failures: int, last: float) -> LockState:
    delay = delay_for(failures)
    if not delay:
        return OPEN
    wait = last + delay - _clock()
    if wait > 0:
        return LockState(throttled=True, retry_after=max(1, math.ceil(wait)))
    # The delay has passed: one attempt takes this turn; any other arriving before its
    # outcome is recorded waits for the next one.
    turn = f"{_ACCOUNT_PREFIX}{account_key(email)}:turn:{failures}:{last}"
    if not cache.add(turn, 1, timeout=settings.AUTH_LOGIN_DELAY_MEMORY_SECONDS):
        return LockState(throttled=True, retry_after=max(1, delay_for(failures + 1)))
    return OPEN


# --- Known clients --------------------------------------------------------------------------


def _device_accounts(device_token: str | None) -> list[str]:
    if not device_token or len(device_token) > 1024:
        return []
    try:
        value = signing.loads(
            device_token,
            salt=DEVICE_SALT,
            max_age=timedelta(days=settings.AUTH_DEVICE_COOKIE_DAYS),
        )
    except signing.BadSignature:
        return []
    if not isinstance(value, list):
        return []
    return [entry for entry in value if isinstance(entry, str)][:DEVICE_MAX_ACCOUNTS]


def device_token_issue(*, email: str, previous: str | None) -> str:
    """A device token naming this account (first) and up to four others it already named."""
    key = account_key(email)
    accounts = [key, *(entry for entry in _device_accounts(previous) if entry != key)]
    return signing.dumps(accounts[:DEVICE_MAX_ACCOUNTS], salt=DEVICE_SALT)


def client_is_known(*, email: str, ip: str, device_token: str | None) -> bool:
    """Whether the client holds this account's device token or comes from an address the
    account signed in from in the last `AUTH_KNOWN_ADDRESS_DAYS` (one query by email, the
    same whether or not an account has it)."""
    if account_key(email) in _device_accounts(device_token):
        return True
    if not ip or ip == "unknown":
        return False
    since = timezone.now() - timedelta(days=settings.AUTH_KNOWN_ADDRESS_DAYS)
    return AuthSession.objects.filter(
        user__email__iexact=email.strip(), ip_address=ip, created_at__gte=since
    ).exists()


# --- What the login service calls -----------------------------------------------------------


def lockout_check(*, email: str, ip: str, device_token: str | None = None) -> LockState:
    """Whether a password attempt for `email` from `ip` may go ahead now."""
    pair = _lock_state(_pair_identity(email, ip))
    if pair.refused:
        return pair
    address = _lock_state(_ip_identity(ip))
    failures, last = account_failures(email)
    if not address.refused and not delay_for(failures):
        return OPEN
    if client_is_known(email=email, ip=ip, device_token=device_token):
        return OPEN
    if address.refused:
        return address
    return _account_state(email, failures=failures, last=last)


@dataclass(frozen=True)
class FailureOutcome:
    locked: bool  # the pair or the address has just reached its limit
    delay_started: bool  # the account has just begun to slow unknown clients down


def lockout_record_failure(*, email: str, ip: str) -> FailureOutcome:
    """Count one failure against the pair, the address and the account."""
    item = ratelimit.parse_rate(_rate())
    limiter = ratelimit.limiter()
    locked = False
    for identity in (_pair_identity(email, ip), _ip_identity(ip)):
        limiter.hit(item, SCOPE, identity)
        if not limiter.test(item, SCOPE, identity):
            locked = True
    memory = settings.AUTH_LOGIN_DELAY_MEMORY_SECONDS
    failures_key = _failures_key(email)
    if cache.add(failures_key, 1, timeout=memory):
        failures = 1
    else:
        try:
            failures = int(cache.incr(failures_key))
        except ValueError:  # expired between add and incr
            cache.set(failures_key, 1, timeout=memory)
            failures = 1
        cache.touch(failures_key, timeout=memory)
    cache.set(_last_key(email), _clock(), timeout=memory)
    return FailureOutcome(
        locked=locked, delay_started=failures == settings.AUTH_LOGIN_DELAY_AFTER_FAILURES
    )


def lockout_clear_account(*, email: str, ip: str | None = None) -> None:
    """After a successful login (or a password reset): forget the account's failures, and
    the pair's when the address is given."""
    cache.delete_many([_failures_key(email), _last_key(email)])
    if ip is not None:
        ratelimit.limiter().clear(ratelimit.parse_rate(_rate()), SCOPE, _pair_identity(email, ip))
