"""The signed-in session and its user, kept in the cache for a minute so an authenticated
request needs no database query (Redis in services mode), and the user's GET /me reply,
read in the same round trip: one `MGET` per authenticated request. A route whose own reply
is kept in the cache may name its keys (`core.auth.BearerAuth(prefetch=...)`); they are read
in that same `MGET` and handed back as they are (docs/decisions/0037).

Correctness does not rest on the minute: every entry carries the user's *generation*, a
random value kept under its own key, and any change to the user or to one of their sessions
(a save, a logout, reuse detection, a password change) replaces the generation, in this
process at once and again when the transaction commits. An entry whose generation is not
the current one is ignored. A generation that was evicted is replaced by a new one, which
no entry carries.

The cache being unreachable costs a request its database query, never its answer: a read
that cannot reach it is a miss (the session is checked in the database, as without a cache)
and writes are skipped. An invalidation that cannot reach it is bounded by the entries' own
timeout (`AUTH_SESSION_CACHE_SECONDS`), and is sent again when the transaction commits.
"""

from __future__ import annotations

import pickle
import time
import uuid
from collections.abc import Sequence
from dataclasses import dataclass
from typing import Any

from django.conf import settings
from django.core.cache import cache
from django.db import transaction

from tessera.core.outages import CACHE_CONNECTION_ERRORS, outage_report

ENTRY_PREFIX = "accounts:auth:v2:"
GENERATION_PREFIX = "accounts:auth-gen:v1:"
ME_PREFIX = "accounts:auth-me:v1:"


def _entry_key(session_id: Any) -> str:
    return f"{ENTRY_PREFIX}{session_id}"


def _generation_key(user_id: Any) -> str:
    return f"{GENERATION_PREFIX}{user_id}"


def _me_key(user_id: Any) -> str:
    return f"{ME_PREFIX}{user_id}"


@dataclass(frozen=True, slots=True)
class AuthCacheRead:
    """What one read found: the session's entry if current, the generation to store new
    entries under, and the user's /me reply stored under that generation (with the host it
    was built for: it holds absolute links)."""

    entry: dict[str, Any] | None
    generation: str
    me: dict[str, Any] | None
    # The `also` keys read with them, each present (None when absent); None when not read.
    also: dict[str, Any] | None = None


def auth_cache_invalidate(user_id: Any) -> None:
    """Forget every cached session of `user_id`, now and again once the transaction commits
    (a request racing the commit could otherwise cache the old row)."""
    if user_id is None:
        return

    def bump() -> None:
        try:
            cache.set(_generation_key(user_id), uuid.uuid4().hex, timeout=None)
        except CACHE_CONNECTION_ERRORS as exc:
            _outage(exc)

    bump()
    transaction.on_commit(bump)


def _outage(exc: Exception) -> None:
    outage_report("cache", exc, event="accounts.auth_cache_unavailable", level="warning")


def auth_cache_get(*, session_id: Any, user_id: Any, also: Sequence[str] = ()) -> AuthCacheRead:
    """The session's entry, the generation and the /me reply, and the `also` keys of the
    default cache read in the same round trip (values not checked: they are the caller's)."""
    if settings.AUTH_SESSION_CACHE_SECONDS <= 0:
        return AuthCacheRead(None, "", None)
    try:
        return _read(session_id=session_id, user_id=user_id, also=also)
    except CACHE_CONNECTION_ERRORS as exc:  # a miss; no generation, so nothing is stored
        _outage(exc)
        return AuthCacheRead(None, "", None)


def _read(*, session_id: Any, user_id: Any, also: Sequence[str]) -> AuthCacheRead:
    keys = [_entry_key(session_id), _generation_key(user_id), _me_key(user_id)]
    values = cache.get_many([*keys, *also])
    also_values = {key: values.get(key) for key in also} if also else None
    generation = values.get(keys[1])
    if generation is None:
        candidate = uuid.uuid4().hex
        generation = candidate if cache.add(keys[1], candidate, None) else None
        generation = generation or cache.get(keys[1]) or ""
        return AuthCacheRead(None, str(generation), None, also_values)
    now = time.time()
    entry = values.get(keys[0])
    if not (
        isinstance(entry, dict)
        and entry.get("generation") == generation
        and entry.get("user_id") == str(user_id)
        and entry.get("expires_at", 0) > now
    ):
        entry = None
    me = values.get(keys[2])
    if not (isinstance(me, dict) and me.get("generation") == generation):
        me = None
    return AuthCacheRead(entry, str(generation), me, also_values)


def entry_user_values(entry: dict[str, Any]) -> list[Any]:
    """The user's column values kept in a current entry (written by `auth_cache_set`)."""
    values: list[Any] = pickle.loads(entry["user"])  # noqa: S301 - our own cache entry
    return values


def auth_cache_set(
    *, session_id: Any, user_id: Any, generation: str, expires_at: float, user_values: list[Any]
) -> None:
    if not generation or settings.AUTH_SESSION_CACHE_SECONDS <= 0:
        return
    timeout = min(settings.AUTH_SESSION_CACHE_SECONDS, max(1, int(expires_at - time.time())))
    _store(
        _entry_key(session_id),
        {
            "generation": generation,
            "user_id": str(user_id),
            "expires_at": min(expires_at, time.time() + timeout),
            # Pickled apart: the entry is checked without unpickling the user.
            "user": pickle.dumps(user_values, protocol=pickle.HIGHEST_PROTOCOL),
        },
        timeout=timeout,
    )


def auth_cache_set_me(*, user_id: Any, generation: str, host: str, body: bytes) -> None:
    """Keep the user's /me reply until the user's generation moves (any change to them)."""
    if not generation or settings.AUTH_SESSION_CACHE_SECONDS <= 0:
        return
    _store(
        _me_key(user_id),
        {"generation": generation, "host": host, "body": body},
        timeout=settings.AUTH_SESSION_CACHE_SECONDS,
    )


def _store(key: str, value: dict[str, Any], *, timeout: int) -> None:
    try:
        cache.set(key, value, timeout=timeout)
    except CACHE_CONNECTION_ERRORS as exc:  # not kept: the next request reads the database
        _outage(exc)
