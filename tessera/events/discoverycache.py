"""Discovery pages (`GET /api/events`) kept ready in the cache, as the bytes the API sends
(docs/decisions/0038-discovery-cache.md).

Keys, in Django's default cache (Redis in production):

- `events:discovery-generation:v1` — a random generation, replaced whenever an event write
  changes what discovery can show (`discovery_changed`, from the services and the admin);
- `events:discovery-page:v1:<sha256 of the normalised query>` — `(generation, page bytes)`.

A page is served only while the generation it was built under is the current one, so a page
built from rows read before a write is never served after the write's bump, however late it
was stored: no locking between readers and writers (`core.keptpages`, shared with box pages,
0010). A page lives at most `EVENTS_DISCOVERY_CACHE_SECONDS` (0 turns the cache off).

Discovery shows public, published events only, and a page is built without a viewer (covers
are shown to whoever may see the event, `file_ref(grant_private=True)`), so a page is the same
for everyone who asks the same query on the same host: nothing in it is the asker's.

What the generation does not see, bounded by the page's lifetime: seats taken or given back
(`placesLeft`, written on every join), an event starting while a page asked without `from`
(which defaults to now) is kept, the host renaming themselves, an interest renamed in the
catalogue, a cover's file finishing its processing (accounts and files are platform apps:
they do not call events).
"""

from __future__ import annotations

import hashlib
from collections.abc import Mapping
from typing import Any

from django.conf import settings

from tessera.core.keptpages import KeptPages

GENERATION_KEY = "events:discovery-generation:v1"
_PAGE_PREFIX = "events:discovery-page:v1:"
_PAGES = KeptPages("events.discovery_cache")


def page_seconds() -> int:
    return max(0, int(settings.EVENTS_DISCOVERY_CACHE_SECONDS))


def enabled() -> bool:
    return page_seconds() > 0


def page_key(normal_form: str) -> str:
    """The key of a page, from its query's normal form (any length: the key is a hash, well
    under memcached's 250 characters and Django's warning)."""
    return _PAGE_PREFIX + hashlib.sha256(normal_form.encode()).hexdigest()


def page_lookup(
    key: str, *, prefetched: Mapping[str, Any] | None = None
) -> tuple[bytes | None, str | None]:
    """The kept page for `key` if built under the current generation, and the generation a
    page built now is kept under (None: do not keep it, the cache is unreachable)."""
    return _PAGES.lookup(GENERATION_KEY, key, prefetched=prefetched)


def page_keep(*, key: str, generation: str, body: bytes, seconds: int) -> None:
    _PAGES.keep(key=key, generation=generation, body=body, seconds=seconds)


def discovery_changed() -> None:
    """Retire every kept discovery page (now and once the transaction commits)."""
    if enabled():
        _PAGES.retire([GENERATION_KEY])
