"""Reply pages kept in the cache under a generation, as the bytes the API sends.

The scheme capsules' box pages (0010, 0037) and event discovery (0038) share. A generation key
holds a random value; a page is kept as `(generation, bytes)` and served only while the
generation it was built under is still the current one. A write retires every page kept
under a generation by replacing it, once when it happens and again after its transaction
commits: a page built between the two, from rows read before the commit, is kept under the
generation the commit then retires. So readers and writers never lock each other, and a
page read before a change is never served after it, however late it was stored.

The cache being unreachable costs the page's query, never an error: lookups answer "not
kept, do not keep" and writes are skipped (pages then age out within their lifetime). Each
user of the scheme names its own outage event for the logs.
"""

from __future__ import annotations

import uuid
from collections.abc import Iterable, Mapping
from dataclasses import dataclass
from typing import Any

from django.core.cache import cache
from django.db import transaction

from tessera.core.outages import CACHE_CONNECTION_ERRORS, outage_report

GENERATION_SECONDS = 24 * 3600


@dataclass(frozen=True)
class KeptPages:
    """One family of kept pages; `name` prefixes its outage log events
    (`<name>_unavailable`, `<name>_bump_failed`)."""

    name: str

    def _outage(self, exc: BaseException, *, bump: bool = False) -> None:
        if bump:
            outage_report("cache", exc, event=f"{self.name}_bump_failed")
        else:
            outage_report("cache", exc, event=f"{self.name}_unavailable", level="warning")

    def lookup(
        self, generation_key: str, key: str, *, prefetched: Mapping[str, Any] | None = None
    ) -> tuple[bytes | None, str | None]:
        """The page kept under `key` if built under the current generation, and the
        generation a page built now is kept under (None: do not keep it, the cache is
        unreachable). Taken from `prefetched` (what the authentication read with the
        session, `core.auth.BearerAuth(prefetch=...)`) when both keys are there."""
        try:
            if prefetched is not None and key in prefetched and generation_key in prefetched:
                values = prefetched
            else:
                values = cache.get_many([generation_key, key])
            generation = values.get(generation_key)
            kept = values.get(key)
            if generation is not None and isinstance(kept, tuple) and kept[0] == generation:
                body: bytes = kept[1]
                return body, str(generation)
            if generation is None:
                candidate = uuid.uuid4().hex
                if not cache.add(generation_key, candidate, timeout=GENERATION_SECONDS):
                    return None, cache.get(generation_key)
                generation = candidate
        except CACHE_CONNECTION_ERRORS as exc:  # the cache being down costs the page's query
            self._outage(exc)
            return None, None
        return None, str(generation)

    def keep(self, *, key: str, generation: str, body: bytes, seconds: int) -> None:
        if seconds < 1:
            return
        try:
            cache.set(key, (generation, body), timeout=seconds)
        except CACHE_CONNECTION_ERRORS as exc:  # a page not kept is built again next time
            self._outage(exc)

    def retire(self, generation_keys: Iterable[str]) -> None:
        """Retire every page kept under these generations, now and after the commit."""
        keys = set(generation_keys)
        if not keys:
            return

        def bump() -> None:
            try:
                cache.set_many({key: uuid.uuid4().hex for key in keys}, timeout=GENERATION_SECONDS)
            except CACHE_CONNECTION_ERRORS as exc:  # pages then age out within their lifetime
                self._outage(exc, bump=True)

        bump()
        transaction.on_commit(bump)
