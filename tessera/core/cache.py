"""Django's Redis cache back end, keeping one client per connection pool.

Django's own back end builds a new `redis.Redis` for every call, and the constructor alone
costs about as much as the round trip (../shared/PERFORMANCE.md); the client is thread-safe
and the pool already shared, so one client per pool is enough.
"""

from __future__ import annotations

from typing import Any

from django.core.cache.backends.redis import RedisCache, RedisCacheClient


class _PooledClient(RedisCacheClient):
    def __init__(self, *args: Any, **kwargs: Any) -> None:
        super().__init__(*args, **kwargs)
        self._clients: dict[int, Any] = {}

    def get_client(self, key: Any = None, *, write: bool = False) -> Any:
        # Private helpers of Django's client that django-stubs does not declare.
        index = self._get_connection_pool_index(write)  # type: ignore[attr-defined]
        client = self._clients.get(index)
        if client is None:
            pool = self._get_connection_pool(write)  # type: ignore[attr-defined]
            client = self._client(connection_pool=pool)  # type: ignore[attr-defined]
            self._clients[index] = client
        return client


class PooledRedisCache(RedisCache):
    def __init__(self, server: str, params: dict[str, Any]) -> None:
        super().__init__(server, params)
        self._class = _PooledClient

    def validate_key(self, key: str) -> None:
        # Django's check warns about keys memcached would refuse (over 250 characters, spaces,
        # control characters); Redis takes any key, and the check walks every character of
        # every key on every call (about 3 µs a key, three keys per signed-in request).
        return None
