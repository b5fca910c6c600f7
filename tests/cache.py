"""The Redis cache of the test lane that runs on Redis (`TEST_CACHE=redis`).

Every test process writes under a key prefix of its own (`tessera-test-<pid>`, set in
config/settings/test.py), and `clear()` deletes only those keys: Django's own `clear()` is
FLUSHDB, which would wipe the other xdist worker's keys mid-test (and anything else kept in
that Redis database).
"""

from __future__ import annotations

from typing import Any

from tessera.core.cache import PooledRedisCache


class IsolatedRedisCache(PooledRedisCache):
    def __init__(self, server: str, params: dict[str, Any]) -> None:
        super().__init__(server, params)
        self.own_keys = f"{self.key_prefix}:*"

    def clear(self) -> None:
        client = self._cache.get_client(write=True)
        batch: list[bytes] = []
        for key in client.scan_iter(match=self.own_keys, count=1000):
            batch.append(key)
            if len(batch) >= 500:
                client.unlink(*batch)
                batch.clear()
        if batch:
            client.unlink(*batch)
