"""Background work: the base task every Tessera task uses and the enqueue-on-commit helper."""

from __future__ import annotations

import secrets
from typing import Any

import structlog
from celery import Task, current_app
from django.core.cache import DEFAULT_CACHE_ALIAS, cache, caches
from django.core.cache.backends.redis import RedisCache
from django.db import InterfaceError, transaction
from kombu.exceptions import OperationalError as KombuOperationalError

from tessera.core.outages import CACHE_CONNECTION_ERRORS

logger = structlog.get_logger("tessera.jobs")

# Errors worth retrying: the network, the broker, the database or Redis (the cache, the
# providers' rate-limit counters) being briefly away. Redis' errors are not the built-in
# ConnectionError: without them a task meeting a Redis restart failed for good.
TRANSIENT_ERRORS: tuple[type[BaseException], ...] = (
    ConnectionError,
    TimeoutError,
    InterfaceError,
    KombuOperationalError,
    *CACHE_CONNECTION_ERRORS,
)


class TesseraTask(Task):
    """Acknowledged late (a crashed worker's task is redelivered), so every task must be
    idempotent; transient failures retry with exponential backoff and jitter."""

    acks_late = True
    reject_on_worker_lost = True
    autoretry_for = TRANSIENT_ERRORS
    retry_backoff = 2
    retry_backoff_max = 600
    retry_jitter = True
    max_retries = 8


def enqueue_on_commit(task: Any, /, *, task_id: str | None = None, **kwargs: Any) -> None:
    """Send `task` with keyword arguments once the current transaction commits.

    Arguments must be ids and plain values, never model instances. A rolled-back write
    sends nothing.
    """

    def send() -> None:
        task.apply_async(kwargs=kwargs, task_id=task_id)

    transaction.on_commit(send)


def send_task_by_name(name: str, /, **kwargs: Any) -> None:
    """Enqueue by registered name after commit, for callers that may not import the task."""
    transaction.on_commit(lambda: current_app.send_task(name, kwargs=kwargs))


def _drain_key(name: str, slot: int) -> str:
    return f"tessera:drain:{name}:{slot}"


# Take the first free slot's marker, in one round trip: `SET key <token> NX EX <seconds>` on
# each slot's key in turn, stopping at the first that was free; returns its index, or -1 when
# every slot is held. Redis runs a script atomically, so this is the loop of `cache.add` calls
# it replaces (one per slot, three round trips in the common case of every slot held) with no
# other client's command in between. ARGV[1] is the owner's token as the cache's serializer
# writes it, so `cache.get` reads the marker as it would one `cache.add` stored.
_CLAIM_FIRST_FREE_SLOT = """
for index, key in ipairs(KEYS) do
  if redis.call('SET', key, ARGV[1], 'NX', 'EX', ARGV[2]) then
    return index - 1
  end
end
return -1
"""

# Free a slot only if its marker still holds the owner's token: a drain that ran past
# `marker_seconds` lost its marker, and the slot may have been claimed again since.
_RELEASE_IF_OWNER = """
if redis.call('GET', KEYS[1]) == ARGV[1] then
  return redis.call('DEL', KEYS[1])
end
return 0
"""


# Registered scripts by name, one per process (redis-py's Script keeps the SHA for EVALSHA).
_scripts: dict[str, Any] = {}


def _redis_backend() -> RedisCache | None:
    backend = caches[DEFAULT_CACHE_ALIAS]  # `cache` is a proxy, never a RedisCache itself
    return backend if isinstance(backend, RedisCache) else None


def _run_script(
    backend: RedisCache, name: str, source: str, *, keys: list[str], args: list[Any]
) -> Any:
    client = backend._cache.get_client(write=True)
    script = _scripts.get(name)
    if script is None:
        # EVALSHA, falling back to EVAL once when the server has not cached the script.
        script = _scripts[name] = client.register_script(source)
    return script(
        keys=[backend.make_and_validate_key(key) for key in keys], args=args, client=client
    )


def _new_token() -> str:
    return secrets.token_hex(16)


def _as_stored(backend: RedisCache, token: str) -> Any:
    """`token` as the cache writes it (its serializer's bytes), for the scripts to store and
    compare like with like, so `cache.get` reads a marker as one `cache.add` stored."""
    return backend._cache._serializer.dumps(token)  # type: ignore[attr-defined]


def _claim_slot(name: str, slots: int, marker_seconds: int) -> tuple[int, str] | None:
    """The slot whose marker this call took and the token stored in it (its owner's proof),
    or None when every slot was held."""
    keys = [_drain_key(name, slot) for slot in range(slots)]
    token = _new_token()
    backend = _redis_backend()
    if backend is not None:
        stored = _as_stored(backend, token)
        claimed = int(
            _run_script(
                backend, "claim", _CLAIM_FIRST_FREE_SLOT, keys=keys, args=[stored, marker_seconds]
            )
        )
        return (claimed, token) if claimed >= 0 else None
    for slot, key in enumerate(keys):  # the database or local-memory cache
        if cache.add(key, token, timeout=marker_seconds):
            return slot, token
    return None


def drain_schedule(
    task: Any,
    /,
    *,
    name: str,
    slots: int = 1,
    marker_seconds: int = 10,
    kwargs: dict[str, Any] | None = None,
    countdown: float | None = None,
) -> bool:
    """Make sure a drain task runs soon, without sending one task per item: `task` is sent
    with `slot=<n>` and `slot_token=<token>` only when that slot's marker (SET NX on Redis, a
    cache `add` elsewhere) was free; with every slot held, the drains already queued or
    running will find the new item. On Redis all the slots are tried in one round trip
    (`_CLAIM_FIRST_FREE_SLOT`). The marker holds the token, a value unique to this claim.

    A drain must call `drain_release` with its slot and token when it finds nothing left,
    then look once more. Why no item is left behind (no lost wakeup): the caller stored its
    item before calling this (`drain_on_commit`: after the commit). Either it takes a slot,
    and the task it sends starts after the item was stored; or every slot was held when it
    looked, and the drain holding each one frees it after that moment and then looks again,
    so that last look starts after the item was stored and finds it (or a drain that took it
    first). A slot freed between two items is taken again by the next item's call. So the
    look at the markers can never be skipped or remembered from an earlier call (a slot seen
    held may be freed a moment later); one round trip per stored item is the floor.

    The marker expires after `marker_seconds`, so a drain task that was lost holds its slot
    no longer than that; the owning module's beat sweep is the last resort. A drain that runs
    longer loses its marker the same way, and the slot may be claimed by another drain: its
    release then leaves the new owner's marker alone (the token no longer matches), so a
    third drain cannot start in a slot that is still busy. The argument above still holds:
    a slot seen held was held by a drain that had not yet made its last look (the old owner
    looks again after its release, matched or not; the new owner started after it claimed).

    With the cache unreachable the task is sent anyway, with `slot=None` (it took no marker,
    so it frees none; several drains at once are safe). `kwargs` go to the task beside `slot`
    and `slot_token`; `countdown` (under `marker_seconds`) lets items gather into bigger
    batches where a second's delay costs nothing. Returns whether a task was sent."""
    slot: int | None
    token: str | None
    try:
        claimed = _claim_slot(name, max(1, slots), marker_seconds)
        if claimed is None:
            return False
        slot, token = claimed
    except CACHE_CONNECTION_ERRORS:
        logger.warning("drain_marker_unavailable", drain=name)
        slot, token = None, None
    task.apply_async(
        kwargs={**(kwargs or {}), "slot": slot, "slot_token": token}, countdown=countdown
    )
    return True


def drain_on_commit(task: Any, /, *, name: str, **options: Any) -> None:
    """`drain_schedule` (same options) once the current transaction commits. A failure to
    reach the broker is logged, not raised: the rows are stored, and the module's sweep sends
    them."""

    def send() -> None:
        try:
            drain_schedule(task, name=name, **options)
        except Exception:
            logger.exception("drain_schedule_failed", drain=name)

    transaction.on_commit(send)


def drain_release(*, name: str, slot: int | None, token: str | None = None) -> bool:
    """Free a drain's slot (see `drain_schedule`) if its marker still holds `token`; returns
    whether a marker was deleted. `slot=None` (a run that took no slot: beat's, a hand-over,
    the cache being down at scheduling) frees nothing. `token=None` is a task sent before
    markers held tokens: its slot is freed whatever the marker holds, as it was then.

    On Redis the compare and the delete are one script; on the database or local-memory
    cache they are two calls, so a marker that expires and is claimed again between them
    could still be freed (a window of one cache call, against a whole drain's run)."""
    if slot is None:
        return False
    key = _drain_key(name, slot)
    try:
        if token is None:
            return bool(cache.delete(key))
        backend = _redis_backend()
        if backend is not None:
            stored = _as_stored(backend, token)
            return bool(
                _run_script(backend, "release", _RELEASE_IF_OWNER, keys=[key], args=[stored])
            )
        if cache.get(key) != token:
            return False
        return bool(cache.delete(key))
    except CACHE_CONNECTION_ERRORS:
        logger.warning("drain_marker_unavailable", drain=name)
        return False


__all__ = [
    "TRANSIENT_ERRORS",
    "TesseraTask",
    "drain_on_commit",
    "drain_release",
    "drain_schedule",
    "enqueue_on_commit",
    "send_task_by_name",
]
