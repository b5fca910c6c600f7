"""The signed-in session and its user, kept in the cache for a minute so an authenticated
request needs no database query (Redis in services mode).

Correctness does not rest on the minute: every entry carries the user's *generation*, a
random value kept under its own key, and any change to the user or to one of their sessions
(a save, a logout, reuse detection, a password change) replaces the generation, in this
process at once and again when the transaction commits. An entry whose generation is not
the current one is ignored. A generation that was evicted is replaced by a new one, which
no entry carries.
"""

from __future__ import annotations

import time
import uuid
from typing import Any

from django.conf import settings
from django.core.cache import cache
from django.db import transaction

ENTRY_PREFIX = "accounts:auth:v1:"
GENERATION_PREFIX = "accounts:auth-gen:v1:"


def _entry_key(session_id: Any) -> str:
    return f"{ENTRY_PREFIX}{session_id}"


def _generation_key(user_id: Any) -> str:
    return f"{GENERATION_PREFIX}{user_id}"


def auth_cache_invalidate(user_id: Any) -> None:
    """Forget every cached session of `user_id`, now and again once the transaction commits
    (a request racing the commit could otherwise cache the old row)."""
    if user_id is None:
        return

    def bump() -> None:
        cache.set(_generation_key(user_id), uuid.uuid4().hex, timeout=None)

    bump()
    transaction.on_commit(bump)


def auth_cache_get(*, session_id: Any, user_id: Any) -> tuple[dict[str, Any] | None, str]:
    """The cached entry for the session if it is current, and the generation to store a new
    entry under."""
    if settings.AUTH_SESSION_CACHE_SECONDS <= 0:
        return None, ""
    values = cache.get_many([_entry_key(session_id), _generation_key(user_id)])
    generation = values.get(_generation_key(user_id))
    entry = values.get(_entry_key(session_id))
    if generation is None:
        candidate = uuid.uuid4().hex
        generation = candidate if cache.add(_generation_key(user_id), candidate, None) else None
        generation = generation or cache.get(_generation_key(user_id)) or ""
        return None, str(generation)
    if (
        isinstance(entry, dict)
        and entry.get("generation") == generation
        and entry.get("user_id") == str(user_id)
        and entry.get("expires_at", 0) > time.time()
    ):
        return entry, str(generation)
    return None, str(generation)


def auth_cache_set(
    *, session_id: Any, user_id: Any, generation: str, expires_at: float, user_values: list[Any]
) -> None:
    if not generation or settings.AUTH_SESSION_CACHE_SECONDS <= 0:
        return
    timeout = min(settings.AUTH_SESSION_CACHE_SECONDS, max(1, int(expires_at - time.time())))
    cache.set(
        _entry_key(session_id),
        {
            "generation": generation,
            "user_id": str(user_id),
            "expires_at": min(expires_at, time.time() + timeout),
            "user": user_values,
        },
        timeout=timeout,
    )
