"""The near cache against a real Redis: kept exact by Redis's invalidations, empty whenever
its listener is not connected, never past the key's TTL."""

from __future__ import annotations

import time
import uuid
from collections.abc import Callable, Iterator
from typing import Any

import pytest
import redis
from django.core.cache import cache

from tessera.core.nearcache import NearCache, near_cache
from tests.fixtures import near_cache_settled

PREFIX = "near:"


def eventually(check: Callable[[], bool], seconds: float = 1.0) -> bool:
    deadline = time.monotonic() + seconds
    while time.monotonic() < deadline:
        if check():
            return True
        time.sleep(0.01)
    return check()


@pytest.fixture
def redis_cache(settings: Any, redis_url: str) -> Iterator[str]:
    """The default cache on Redis under a key prefix of the test's own (the db is shared)."""
    key_prefix = f"near-test-{uuid.uuid4().hex}"
    settings.CACHES = {
        "default": {
            "BACKEND": "tessera.core.cache.PooledRedisCache",
            "LOCATION": redis_url,
            "KEY_PREFIX": key_prefix,
        }
    }
    yield key_prefix
    plain = redis.Redis.from_url(redis_url)
    for full_key in plain.scan_iter(f"{key_prefix}:*"):
        plain.delete(full_key)


@pytest.fixture
def near(redis_cache: str) -> NearCache:
    found = near_cache(PREFIX)
    assert found is not None
    assert found.wait_connected(5)
    return found


@pytest.fixture
def plain(redis_url: str) -> redis.Redis:
    return redis.Redis.from_url(redis_url)


class CountingClient:
    """Counts the commands sent through Django's Redis client."""

    def __init__(self, monkeypatch: Any) -> None:
        self.commands = 0
        client = cache._cache.get_client(write=True)  # type: ignore[attr-defined]
        execute_command, pipeline = client.execute_command, client.pipeline

        def counted_command(*args: Any, **kwargs: Any) -> Any:
            self.commands += 1
            return execute_command(*args, **kwargs)

        def counted_pipeline(*args: Any, **kwargs: Any) -> Any:
            self.commands += 1
            return pipeline(*args, **kwargs)

        monkeypatch.setattr(client, "execute_command", counted_command)
        monkeypatch.setattr(client, "pipeline", counted_pipeline)


pytestmark = pytest.mark.redis


def test_a_write_from_another_client_is_seen_by_the_next_read(
    near: NearCache, plain: redis.Redis
) -> None:
    cache.set("near:a", ("v1",), timeout=60)
    assert near.get("near:a") == ("v1",)
    assert near.get("near:a") == ("v1",)  # kept locally

    # Written by someone else, in Django's format.
    plain.set(cache.make_key("near:a"), cache._cache._serializer.dumps(("v2",)))  # type: ignore[attr-defined]

    assert eventually(lambda: near.get("near:a") == ("v2",))


def test_a_delete_elsewhere_is_seen(near: NearCache, plain: redis.Redis) -> None:
    cache.set("near:gone", 1, timeout=60)
    assert near.get_many(["near:gone", "near:never"]) == {"near:gone": 1}

    plain.delete(cache.make_key("near:gone"))

    assert eventually(lambda: near.get("near:gone") is None)


def test_a_local_hit_sends_no_command(near: NearCache, monkeypatch: Any) -> None:
    cache.set("near:hit", b"bytes", timeout=60)
    cache.set("near:hit2", b"more", timeout=60)
    near_cache_settled(near)
    counting = CountingClient(monkeypatch)
    assert near.get_many(["near:hit", "near:hit2"]) == {"near:hit": b"bytes", "near:hit2": b"more"}
    assert counting.commands == 1  # GET and PTTL of both in one pipeline

    for _ in range(50):
        assert near.get("near:hit") == b"bytes"
        assert near.get_many(["near:hit", "near:hit2"])["near:hit2"] == b"more"

    assert counting.commands == 1


def test_keys_outside_the_prefix_are_not_tracked_but_read_right(near: NearCache) -> None:
    cache.set("near:in", 1, timeout=60)
    near.get("near:in")

    cache.set("other:out", 2, timeout=60)

    assert near.get("near:in") == 1


def test_a_killed_listener_empties_the_cache_and_reconnects(
    near: NearCache, plain: redis.Redis
) -> None:
    cache.set("near:k", "old", timeout=60)
    assert near.get("near:k") == "old"
    first_id = near.client_id

    plain.client_kill_filter(_id=str(first_id))

    assert eventually(lambda: not near.connected or near.client_id != first_id, 3)
    # Written while the listener may be away: whatever its state, the read is right.
    cache.set("near:k", "new", timeout=60)
    assert near.get("near:k") == "new"
    assert eventually(lambda: near.connected and near.client_id != first_id, 5)
    assert near.get("near:k") == "new"

    cache.set("near:k", "newer", timeout=60)
    assert eventually(lambda: near.get("near:k") == "newer")


def test_while_disconnected_nothing_is_kept(near: NearCache, monkeypatch: Any) -> None:
    cache.set("near:d", 1, timeout=60)
    near.close()
    counting = CountingClient(monkeypatch)

    assert near.get("near:d") == 1
    assert near.get("near:d") == 1

    assert counting.commands == 2
    assert near._entries == {}


def test_an_entry_never_outlives_its_redis_ttl(near: NearCache, plain: redis.Redis) -> None:
    full_key = cache.make_key("near:ttl")
    plain.set(full_key, cache._cache._serializer.dumps("brief"), px=600)  # type: ignore[attr-defined]
    near_cache_settled(near)
    before = time.monotonic()

    assert near.get("near:ttl") == "brief"
    assert near._entries["near:ttl"][1] <= before + 0.6

    time.sleep(0.65)
    assert near.get("near:ttl") is None


def test_a_key_without_ttl_is_kept_until_invalidated(near: NearCache) -> None:
    cache.set("near:forever", "x", timeout=None)
    near_cache_settled(near)
    assert near.get("near:forever") == "x"
    assert near._entries["near:forever"][1] == float("inf")

    cache.delete("near:forever")

    assert eventually(lambda: near.get("near:forever") is None)


def test_a_flush_message_empties_the_cache(near: NearCache) -> None:
    cache.set("near:f", 1, timeout=60)
    near_cache_settled(near)
    near.get("near:f")
    assert "near:f" in near._entries

    # What FLUSHALL/FLUSHDB send; not run here, the test Redis is shared.
    near._on_invalidate([b"invalidate", None])

    assert near._entries == {}


def test_forget_drops_at_once(near: NearCache) -> None:
    cache.set("near:w", 1, timeout=60)
    near.get("near:w")
    cache.set("near:w", 2, timeout=60)

    near.forget(["near:w"])

    assert near.get("near:w") == 2


def test_a_fork_starts_a_listener_of_its_own(near: NearCache) -> None:
    import os

    cache.set("near:p", "parent", timeout=60)
    near.get("near:p")
    read, write = os.pipe()
    pid = os.fork()
    if pid == 0:  # the child: its own listener, never the parent's entries or state
        try:
            ok = (
                near.get("near:p") == "parent"
                and near.wait_connected(5)
                and near.client_id is not None
            )
            os.write(write, f"{int(ok)} {near.client_id}".encode())
        finally:
            os._exit(0)
    os.close(write)
    reply = os.read(read, 100).decode().split()
    os.waitpid(pid, 0)
    assert reply[0] == "1"
    assert int(reply[1]) != near.client_id


def test_no_near_cache_without_redis(settings: Any) -> None:
    settings.CACHES = {
        "default": {"BACKEND": "django.core.cache.backends.locmem.LocMemCache", "LOCATION": "x"}
    }

    assert near_cache(PREFIX) is None
