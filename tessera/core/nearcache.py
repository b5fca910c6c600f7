"""A process-local copy of Redis keys under one prefix, kept exact by Redis itself.

A Redis GET costs about half the edge's CPU for a cached reply (redis-py's per-command
layer, the socket round trip). Redis can tell a client when keys change (server-assisted
client-side caching): one daemon thread per process keeps a dedicated RESP3 connection with
`CLIENT TRACKING ON BCAST PREFIX <prefix>` and drops local entries as the `invalidate`
pushes arrive (docs/decisions/0013-near-cache-for-the-website-document.md).

Correctness rests on three rules:
- nothing is kept unless the listener is connected; on losing it everything is dropped and
  reads go to Redis as they would without this module;
- a value read from Redis is kept only if no invalidation (nor reconnection) happened
  between the start of the read and keeping it: the epoch, bumped by each, must not move;
- a local entry expires no later than the key does in Redis (PTTL read with the value).

Only for Django's Redis cache back end; any other back end (locmem is already in-process)
gets no near cache.
"""

from __future__ import annotations

import contextlib
import math
import os
import socket
import threading
import time
from typing import Any

import structlog
from django.core.cache import caches
from django.core.cache.backends.redis import RedisCache
from django.core.signals import setting_changed
from django.dispatch import receiver
from redis.connection import ConnectionPool

logger = structlog.get_logger(__name__)

_PUSHED = object()


class NearCache:
    """The keys of the cache `alias` that start with `prefix`, as `get`/`get_many` see them."""

    def __init__(
        self,
        *,
        alias: str,
        prefix: str,
        url: str,
        full_prefix: str,
        max_entries: int = 1024,
        ping_seconds: float = 1.0,
    ) -> None:
        self.alias = alias
        self.prefix = prefix
        self.url = url
        self.full_prefix = full_prefix
        self.max_entries = max_entries
        self.ping_seconds = ping_seconds
        self._pid: int | None = None
        self._reset()

    def _reset(self) -> None:
        self._lock = threading.Lock()
        self._entries: dict[str, tuple[Any, float]] = {}
        self._epoch = 0
        self._connected = False
        self._connected_event = threading.Event()
        self._stopped = threading.Event()
        self._socket: socket.socket | None = None
        self.client_id: int | None = None

    @property
    def connected(self) -> bool:
        return self._connected

    def _ensure_listening(self) -> None:
        # After a fork the parent's thread and connection are not ours: start afresh. The pid
        # is the one the fork hook below keeps: os.getpid() is a system call per request.
        pid = _pid
        if self._pid == pid:
            return
        with _start_lock:
            if self._pid == pid:
                return
            if self._pid is not None:
                self._reset()
            self._pid = pid
            threading.Thread(target=self._listen_forever, name="nearcache", daemon=True).start()

    def wait_connected(self, timeout: float) -> bool:
        self._ensure_listening()
        return self._connected_event.wait(timeout)

    def get(self, key: str) -> Any:
        """The value of `key`, or None when Redis does not hold it (as `cache.get`)."""
        self._ensure_listening()
        entry = self._entries.get(key)
        if entry is not None and entry[1] > time.monotonic() and self._connected:
            return entry[0]
        if not self._connected:
            return caches[self.alias].get(key)
        return self._fetch([key]).get(key)

    def get_many(self, keys: list[str]) -> dict[str, Any]:
        """The values of the `keys` Redis holds (as `cache.get_many`)."""
        self._ensure_listening()
        if not self._connected:
            return caches[self.alias].get_many(keys)
        now = time.monotonic()
        found: dict[str, Any] = {}
        missing: list[str] = []
        for key in keys:
            entry = self._entries.get(key)
            if entry is not None and entry[1] > now:
                found[key] = entry[0]
            else:
                missing.append(key)
        if missing:
            found.update(self._fetch(missing))
        return found

    def forget(self, keys: list[str]) -> None:
        """Drop `keys` now, after this process wrote them: its next read must see the write
        even before Redis's invalidation arrives."""
        with self._lock:
            self._epoch += 1
            for key in keys:
                self._entries.pop(key, None)

    def close(self) -> None:
        self._stopped.set()
        sock = self._socket
        if sock is not None:
            with contextlib.suppress(OSError):
                sock.shutdown(socket.SHUT_RDWR)
        self._drop_all(connected=False)

    def _fetch(self, keys: list[str]) -> dict[str, Any]:
        backend: Any = caches[self.alias]
        client_wrapper = backend._cache  # Django's own client and serializer: one format
        epoch = self._epoch
        started = time.monotonic()
        # From the server the listener tracks: a replica could answer with what it dropped.
        pipe = client_wrapper.get_client(write=True).pipeline(transaction=False)
        for key in keys:
            full_key = backend.make_key(key)
            pipe.get(full_key)
            pipe.pttl(full_key)
        replies = pipe.execute()
        found: dict[str, Any] = {}
        keep: dict[str, tuple[Any, float]] = {}
        for index, key in enumerate(keys):
            raw, pttl = replies[2 * index], replies[2 * index + 1]
            if raw is None:
                continue
            found[key] = value = client_wrapper._serializer.loads(raw)
            if pttl == -1:
                keep[key] = (value, math.inf)
            elif pttl > 0:
                keep[key] = (value, started + pttl / 1000)
        if keep:
            with self._lock:
                if self._connected and self._epoch == epoch:
                    if len(self._entries) + len(keep) > self.max_entries:
                        self._entries.clear()
                    self._entries.update(keep)
        return found

    def _drop_all(self, *, connected: bool) -> None:
        with self._lock:
            self._epoch += 1
            self._connected = connected
            self._entries.clear()
        if connected:
            self._connected_event.set()
        else:
            self._connected_event.clear()

    def _on_invalidate(self, message: list[Any]) -> object:
        full_keys = message[1]
        with self._lock:
            self._epoch += 1
            if full_keys is None:  # FLUSHALL, FLUSHDB
                self._entries.clear()
            else:
                start = len(self.full_prefix)
                for full_key in full_keys:
                    key = self.prefix + full_key[start:].decode()
                    self._entries.pop(key, None)
        return _PUSHED

    def _listen_forever(self) -> None:
        stopped, pause = self._stopped, 0.1
        while not stopped.is_set():
            connection = None
            try:
                connection = self._connect()
                pause = 0.1
                self._listen(connection)
            except Exception as error:  # noqa: BLE001 - any failure: serve from Redis, retry
                if self._connected and not stopped.is_set():
                    logger.warning("nearcache.disconnected", prefix=self.prefix, error=str(error))
            finally:
                self._drop_all(connected=False)
                self._socket = None
                if connection is not None:
                    with contextlib.suppress(Exception):
                        connection.disconnect()
            stopped.wait(pause)
            pause = min(pause * 2, 5.0)

    def _connect(self) -> Any:
        timeout = 2 * self.ping_seconds
        pool = ConnectionPool.from_url(
            self.url, protocol=3, socket_timeout=timeout, socket_connect_timeout=timeout
        )
        connection: Any = pool.make_connection()
        connection.connect()
        connection._parser.set_invalidation_push_handler(self._on_invalidate)
        connection.send_command("CLIENT", "TRACKING", "ON", "BCAST", "PREFIX", self.full_prefix)
        if connection.read_response() not in (b"OK", "OK"):
            raise ConnectionError("CLIENT TRACKING refused")
        connection.send_command("CLIENT", "ID")
        self.client_id = int(connection.read_response())
        self._socket = connection._sock
        if self._stopped.is_set():
            raise ConnectionError("closed")
        # Tracking is on before anything is kept: a read that starts from here is covered.
        self._drop_all(connected=True)
        logger.info("nearcache.listening", prefix=self.prefix, client_id=self.client_id)
        return connection

    def _listen(self, connection: Any) -> None:
        """Apply invalidations as they come; a PING unanswered for a whole interval means the
        connection is dead (a silent one would otherwise keep stale entries alive)."""
        awaiting_pong = False
        next_ping = time.monotonic() + self.ping_seconds
        while not self._stopped.is_set():
            if connection.can_read(timeout=max(0.0, next_ping - time.monotonic())):
                if connection.read_response(push_request=True) is not _PUSHED:
                    awaiting_pong = False
                continue
            if awaiting_pong:
                raise ConnectionError("no PONG")
            connection.send_command("PING")
            awaiting_pong = True
            next_ping = time.monotonic() + self.ping_seconds


_instances: dict[tuple[str, str], NearCache | None] = {}
_instances_lock = threading.Lock()
_start_lock = threading.Lock()
_pid = os.getpid()


def _new_locks_in_child() -> None:
    # A lock some other thread of the parent held at the fork would stay held in the child.
    global _instances_lock, _start_lock, _pid  # noqa: PLW0603 - the child's own
    _instances_lock, _start_lock = threading.Lock(), threading.Lock()
    _pid = os.getpid()


os.register_at_fork(after_in_child=_new_locks_in_child)


def near_cache(prefix: str, alias: str = "default") -> NearCache | None:
    """The near cache of `prefix` in cache `alias`, or None when that cache is not Redis."""
    try:
        return _instances[(alias, prefix)]
    except KeyError:
        pass
    with _instances_lock:
        if (alias, prefix) not in _instances:
            _instances[(alias, prefix)] = _make(prefix, alias)
        return _instances[(alias, prefix)]


def _make(prefix: str, alias: str) -> NearCache | None:
    backend = caches[alias]
    if not isinstance(backend, RedisCache):
        return None
    full_prefix = backend.make_key(prefix)
    # Invalidated keys are mapped back by cutting the prefix: the key function must allow it.
    if backend.make_key(prefix + "x") != full_prefix + "x":
        return None
    url = backend._cache._servers[0]  # type: ignore[attr-defined]  # where Django writes
    return NearCache(alias=alias, prefix=prefix, url=url, full_prefix=full_prefix)


def close_all() -> None:
    with _instances_lock:
        for near in _instances.values():
            if near is not None:
                near.close()
        _instances.clear()


@receiver(setting_changed)
def _cache_settings_changed(*, setting: str, **kwargs: Any) -> None:
    if setting == "CACHES":
        close_all()
