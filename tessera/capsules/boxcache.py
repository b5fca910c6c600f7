"""Pages of a box (inbox or outbox) kept ready in the cache, as the bytes the API sends.

Keys, in Django's default cache (Redis in production):

- `capsules:box-version:v1:<user>` — a random version, replaced whenever a capsule in one
  of the user's boxes, or the user, changes (`boxes_changed`, from `signals.py` and the
  claim of pending capsules);
- `capsules:page:v1:<user>:<box>:<page>:<size>:<cursor digest>` — `(version, page bytes)`;
  the signed cursor is kept as a short digest, so a key stays under memcached's 250
  characters, which Django checks for every backend (`CacheKeyWarning`).

A page is served only while the version it was built under is the user's current one, so a
page built from rows read before a change is never served after it, however late it was
written: no locking between readers and writers. A page lives at most `PAGE_SECONDS`, and
never past the moment a capsule on it changes state for its readers (unfolds or unlocks:
states are computed from the clock, see `selectors._CHANGES_AT`). Lists filtered by
`state=` are not kept: which capsules match changes with the clock.

The authentication reads a page's two keys in its own round trip when the list route asks it
to (`core.auth.BearerAuth(prefetch=...)`, docs/decisions/0037): `prefetch_keys` guesses them
from the raw query, and `page_lookup` takes what was read when its key is there, so a kept
page costs one cache round trip in all, as it did at the edge.

What invalidation does not see, bounded by `PAGE_SECONDS`: another person renaming
themselves (their name shows in your box), and the `updatedAt` the unlock sweep writes when
it stores a state readers were already shown.
"""

from __future__ import annotations

import hashlib
import uuid
from collections.abc import Iterable, Mapping
from datetime import datetime
from typing import Any

from django.conf import settings
from django.core.cache import cache
from django.db import transaction
from django.utils import timezone

from tessera.core.outages import CACHE_CONNECTION_ERRORS, outage_report

PAGE_SECONDS = 60
VERSION_SECONDS = 24 * 3600
_VERSION_PREFIX = "capsules:box-version:v1:"
_PAGE_PREFIX = "capsules:page:v1:"


def enabled() -> bool:
    return bool(settings.CAPSULE_PAGE_CACHE)


def version_key(user_id: Any) -> str:
    return f"{_VERSION_PREFIX}{user_id}"


def page_key(user_id: Any, *, box: str, page: int, size: int, cursor: str | None) -> str:
    digest = hashlib.blake2b(cursor.encode(), digest_size=16).hexdigest() if cursor else ""
    return f"{_PAGE_PREFIX}{user_id}:{box}:{page}:{size}:{digest}"


def page_from(values: Mapping[str, Any], *, user_id: Any, key: str) -> bytes | None:
    """The page under `key` in `values` (a `get_many` of the version and page keys), if it
    was built under the user's current version."""
    version = values.get(version_key(user_id))
    kept = values.get(key)
    if version is None or not isinstance(kept, tuple) or kept[0] != version:
        return None
    body: bytes = kept[1]
    return body


def prefetch_keys(query: Mapping[str, str], user_id: str, *, size: int) -> list[str]:
    """The version and page keys a plain page of this raw query (`box`, `page`, `cursor`,
    `size` the page size it asks for) will be looked up under; none for a `state=` list
    (never kept) or a query that does not parse (the route refuses it, or looks itself)."""
    box = query.get("box", "inbox")
    if not enabled() or "state" in query or box not in {"inbox", "outbox"}:
        return []
    try:
        page = int(query.get("page", "1"))
    except ValueError:
        return []
    key = page_key(user_id, box=box, page=page, size=size, cursor=query.get("cursor") or None)
    return [version_key(user_id), key]


def page_lookup(
    user_id: Any, key: str, *, prefetched: Mapping[str, Any] | None = None
) -> tuple[bytes | None, str | None]:
    """The kept page for `key` if current, and the version a page built now is kept under
    (None: do not keep it, the cache is unreachable). Read before the rows are, or taken from
    `prefetched` (what the authentication read with the session) when both keys are there."""
    try:
        if prefetched is not None and key in prefetched and version_key(user_id) in prefetched:
            values = prefetched
        else:
            values = cache.get_many([version_key(user_id), key])
        found = page_from(values, user_id=user_id, key=key)
        version = values.get(version_key(user_id))
        if version is None:
            candidate = uuid.uuid4().hex
            if not cache.add(version_key(user_id), candidate, timeout=VERSION_SECONDS):
                return None, cache.get(version_key(user_id))
            version = candidate
    except CACHE_CONNECTION_ERRORS as exc:  # the cache being down costs the page's query
        outage_report("cache", exc, event="capsules.page_cache_unavailable", level="warning")
        return None, None
    return found, str(version)


def page_keep(*, key: str, version: str, body: bytes, changes_at: datetime | None) -> None:
    seconds = PAGE_SECONDS
    if changes_at is not None:
        seconds = min(seconds, int((changes_at - timezone.now()).total_seconds()))
    if seconds < 1:
        return
    try:
        cache.set(key, (version, body), timeout=seconds)
    except CACHE_CONNECTION_ERRORS as exc:  # a page not kept is built again next time
        outage_report("cache", exc, event="capsules.page_cache_unavailable", level="warning")


def boxes_changed(user_ids: Iterable[Any]) -> None:
    """Retire every kept page of these users' boxes, now and again once the transaction
    commits: a page built between the two, from rows read before the commit, is kept under
    the version the commit then retires."""
    ids = {str(user_id) for user_id in user_ids if user_id is not None}
    if not ids or not enabled():
        return

    def bump() -> None:
        try:
            cache.set_many(
                {version_key(user_id): uuid.uuid4().hex for user_id in ids},
                timeout=VERSION_SECONDS,
            )
        except CACHE_CONNECTION_ERRORS as exc:  # pages then age out within PAGE_SECONDS
            outage_report("cache", exc, event="capsules.page_cache_bump_failed")

    bump()
    transaction.on_commit(bump)
