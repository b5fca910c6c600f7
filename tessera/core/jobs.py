"""Background work: the base task every Tessera task uses and the enqueue-on-commit helper."""

from __future__ import annotations

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


# Take the first free slot's marker, in one round trip: `SET key 1 NX EX <seconds>` on each
# slot's key in turn, stopping at the first that was free; returns its index, or -1 when every
# slot is held. Redis runs a script atomically, so this is the loop of `cache.add` calls it
# replaces (one per slot, three round trips in the common case of every slot held) with no
# other client's command in between. The value is what `cache.add(key, 1)` would store
# (Django's Redis serializer keeps an int as its digits), so `cache.get`/`delete` read and
# free it as before.
_CLAIM_FIRST_FREE_SLOT = """
for index, key in ipairs(KEYS) do
  if redis.call('SET', key, ARGV[1], 'NX', 'EX', ARGV[2]) then
    return index - 1
  end
end
return -1
"""


# Registered scripts by name, one per process (redis-py's Script keeps the SHA for EVALSHA).
_scripts: dict[str, Any] = {}


def _claim_slot(name: str, slots: int, marker_seconds: int) -> int | None:
    """The slot whose marker this call took, or None when every slot was held."""
    keys = [_drain_key(name, slot) for slot in range(slots)]
    backend = caches[DEFAULT_CACHE_ALIAS]  # `cache` is a proxy, never a RedisCache itself
    if isinstance(backend, RedisCache):
        client = backend._cache.get_client(write=True)
        script = _scripts.get("claim")
        if script is None:
            # EVALSHA, falling back to EVAL once when the server has not cached the script.
            script = _scripts["claim"] = client.register_script(_CLAIM_FIRST_FREE_SLOT)
        claimed = int(
            script(
                keys=[backend.make_and_validate_key(key) for key in keys],
                args=[1, marker_seconds],
                client=client,
            )
        )
        return claimed if claimed >= 0 else None
    for slot, key in enumerate(keys):  # the database or local-memory cache
        if cache.add(key, 1, timeout=marker_seconds):
            return slot
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
    with `slot=<n>` only when that slot's marker (SET NX on Redis, a cache `add` elsewhere)
    was free; with every slot held, the drains already queued or running will find the new
    item. On Redis all the slots are tried in one round trip (`_CLAIM_FIRST_FREE_SLOT`).

    A drain must call `drain_release` when it finds nothing left, then look once more. Why
    no item is left behind (no lost wakeup): the caller stored its item before calling this
    (`drain_on_commit`: after the commit). Either it takes a slot, and the task it sends
    starts after the item was stored; or every slot was held when it looked, and the drain
    holding each one frees it after that moment and then looks again, so that last look
    starts after the item was stored and finds it (or a drain that took it first). A slot
    freed between two items is taken again by the next item's call. So the look at the
    markers can never be skipped or remembered from an earlier call (a slot seen held may be
    freed a moment later); one round trip per stored item is the floor.

    The marker expires after `marker_seconds`, so a drain task that was lost holds its slot
    no longer than that; the owning module's beat sweep is the last resort. With the cache
    unreachable the task is sent anyway (several drains at once are safe). `kwargs` go to
    the task beside `slot`; `countdown` (under `marker_seconds`) lets items gather into
    bigger batches where a second's delay costs nothing. Returns whether a task was sent."""
    try:
        slot = _claim_slot(name, max(1, slots), marker_seconds)
        if slot is None:
            return False
    except CACHE_CONNECTION_ERRORS:
        logger.warning("drain_marker_unavailable", drain=name)
        slot = 0
    task.apply_async(kwargs={**(kwargs or {}), "slot": slot}, countdown=countdown)
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


def drain_release(*, name: str, slot: int) -> None:
    """Free a drain's slot (see `drain_schedule`)."""
    try:
        cache.delete(_drain_key(name, slot))
    except CACHE_CONNECTION_ERRORS:
        logger.warning("drain_marker_unavailable", drain=name)


__all__ = [
    "TRANSIENT_ERRORS",
    "TesseraTask",
    "drain_on_commit",
    "drain_release",
    "drain_schedule",
    "enqueue_on_commit",
    "send_task_by_name",
]
