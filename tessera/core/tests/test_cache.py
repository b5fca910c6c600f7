"""The Redis cache back end (tessera.core.cache), on a real Redis."""

from __future__ import annotations

import warnings

from tessera.core.cache import PooledRedisCache


def test_keys_memcached_would_refuse_are_stored_without_a_warning(redis_url: str) -> None:
    # Redis takes any key: the memcached checks Django runs per key are skipped.
    cache = PooledRedisCache(redis_url, {"KEY_PREFIX": "tessera-test-cache"})
    long_key, spaced_key = "k" * 300, "a key with spaces\x01"
    try:
        with warnings.catch_warnings():
            warnings.simplefilter("error")
            cache.set_many({long_key: 1, spaced_key: 2})
            assert cache.get_many([long_key, spaced_key]) == {long_key: 1, spaced_key: 2}
    finally:
        cache.delete_many([long_key, spaced_key])


def test_one_client_is_kept_per_connection_pool(redis_url: str) -> None:
    cache = PooledRedisCache(redis_url, {})
    client = cache._cache.get_client(write=True)
    assert cache._cache.get_client(write=True) is client
