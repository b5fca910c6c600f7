"""Pages of a box (inbox or outbox) kept ready in the cache, as the bytes the API sends.

Keys, in Django's default cache (Redis in production):

- `capsules:box-version:v1:<user>` — a random version, replaced whenever a capsule in one
  of the user's boxes, or the user, changes (`boxes_changed`, from `signals.py` and the
  claim of pending capsules);
- `capsules:page:v1:<user>:<box>:<page>:<size>:<cursor digest>` — `(version, page bytes)`;
  the signed cursor is kept as a short digest, so a key stays short whatever a client sends
  (and under the 250 characters Django's non-Redis back ends warn about, `CacheKeyWarning`).

A page is served only while the version it was built under is the user's current one, so a
page built from rows read before a change is never served after it, however late it was
written: no locking between readers and writers (`core.keptpages`, the scheme event
discovery shares). A page lives at most `PAGE_SECONDS`, and
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
from collections.abc import Iterable, Mapping
from datetime import datetime
from typing import Any

from django.conf import settings
from django.utils import timezone

from tessera.core.keptpages import KeptPages

PAGE_SECONDS = 60
_VERSION_PREFIX = "capsules:box-version:v1:"
_PAGE_PREFIX = "capsules:page:v1:"
_PAGES = KeptPages("capsules.page_cache")


def enabled() -> bool:
    return bool(settings.CAPSULE_PAGE_CACHE)


def version_key(user_id: Any) -> str:
    return f"{_VERSION_PREFIX}{user_id}"


def page_key(user_id: Any, *, box: str, page: int, size: int, cursor: str | None) -> str:
    digest = hashlib.blake2b(cursor.encode(), digest_size=16).hexdigest() if cursor else ""
    return f"{_PAGE_PREFIX}{user_id}:{box}:{page}:{size}:{digest}"


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
    return _PAGES.lookup(version_key(user_id), key, prefetched=prefetched)


def page_keep(*, key: str, version: str, body: bytes, changes_at: datetime | None) -> None:
    seconds = PAGE_SECONDS
    if changes_at is not None:
        seconds = min(seconds, int((changes_at - timezone.now()).total_seconds()))
    _PAGES.keep(key=key, generation=version, body=body, seconds=seconds)


def boxes_changed(user_ids: Iterable[Any]) -> None:
    """Retire every kept page of these users' boxes (now and once the transaction commits)."""
    if enabled():
        _PAGES.retire(version_key(user_id) for user_id in user_ids if user_id is not None)
