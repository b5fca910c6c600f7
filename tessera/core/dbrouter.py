"""Read replicas with read-your-writes (docs/decisions/0019-read-replicas.md).

Installed only when `DATABASE_REPLICA_URLS` names replicas. A read goes to a replica when all
of these hold, and to the primary otherwise:

- it happens in a read scope: a GET or HEAD request under the API prefix (the requests whose
  views call selectors), or code wrapped in `replica_reads()` (reports, a task's scan);
- its model is not in `DATABASE_REPLICA_PRIMARY_APPS` (sessions and users: security state);
- no transaction is open on the primary (a read inside `atomic()` belongs to a write);
- the same request or task has not written yet;
- the user it acts for has not written in the last `DATABASE_REPLICA_PIN_SECONDS`.

Every write goes to the primary and pins, in the cache, the user the request acts for (the
bearer token's subject) and every user the written row points to (a foreign key to the user
model), so whoever made a change reads it back on their next requests, whichever process
serves them. A request's replica is chosen once, so its reads see one snapshot source.
"""

from __future__ import annotations

import base64
import contextlib
import random
from collections.abc import Iterator
from contextvars import ContextVar
from dataclasses import dataclass, field
from functools import cache
from typing import Any

import orjson
from django.conf import settings
from django.core.cache import cache as django_cache
from django.core.signals import request_started
from django.db import connections, models

PRIMARY = "default"
PIN_KEY = "dbpin:{}"
SAFE_METHODS = frozenset({"GET", "HEAD"})
# Rows that are not the product's data: writing a cache entry (the database cache) is no
# change a reader could miss.
NOT_DATA_APPS = frozenset({"django_cache"})


@dataclass
class RoutingState:
    """What the router knows about the current request or task."""

    reads_allowed: bool = False
    user_key: str | None = None
    written: bool = False
    pinned: bool | None = None  # looked up in the cache once, on the first read
    replica: str | None = None
    pinned_now: set[str] = field(default_factory=set)


_state: ContextVar[RoutingState | None] = ContextVar("tessera_db_routing", default=None)


def current_state() -> RoutingState:
    state = _state.get()
    if state is None:
        state = RoutingState()
        _state.set(state)
    return state


def begin(*, reads_allowed: bool, user_key: str | None = None) -> RoutingState:
    """A fresh state for a new request or task (threads are reused between requests)."""
    state = RoutingState(reads_allowed=reads_allowed, user_key=user_key)
    _state.set(state)
    return state


def bearer_subject(authorization: str) -> str | None:
    """The `sub` claim of a bearer JWT, unverified: it only chooses where reads go (a forged
    one can only send its own reads to the primary); the view still verifies the token."""
    scheme, _, token = authorization.partition(" ")
    if scheme.lower() != "bearer":
        return None
    parts = token.split(".")
    if len(parts) != 3:
        return None
    payload = parts[1]
    try:
        claims = orjson.loads(base64.urlsafe_b64decode(payload + "=" * (-len(payload) % 4)))
    except ValueError:
        return None
    subject = claims.get("sub") if isinstance(claims, dict) else None
    return str(subject)[:64] if isinstance(subject, str) and subject else None


def _on_request_started(*, environ: dict[str, Any] | None = None, **_: Any) -> None:
    environ = environ or {}
    path = str(environ.get("PATH_INFO", ""))
    reads_allowed = environ.get("REQUEST_METHOD") in SAFE_METHODS and path.startswith(
        settings.API_PREFIX
    )
    begin(
        reads_allowed=reads_allowed,
        user_key=bearer_subject(str(environ.get("HTTP_AUTHORIZATION", ""))),
    )


def _on_task_prerun(**_: Any) -> None:
    begin(reads_allowed=False)


def install() -> None:
    """Connect the per-request and per-task resets (called once replicas are configured)."""
    request_started.connect(_on_request_started, dispatch_uid="tessera-dbrouter")
    from celery import signals

    signals.task_prerun.connect(_on_task_prerun, dispatch_uid="tessera-dbrouter", weak=False)


@contextlib.contextmanager
def replica_reads(*, user_key: str | None = None) -> Iterator[RoutingState]:
    """Let the reads inside go to a replica (same rules otherwise), e.g. in a report task."""
    token = _state.set(RoutingState(reads_allowed=True, user_key=user_key))
    try:
        yield current_state()
    finally:
        _state.reset(token)


@contextlib.contextmanager
def primary_reads() -> Iterator[None]:
    """Send the reads inside to the primary, in any scope: for a result kept beyond the
    request for everyone (a cached page), which a replica that has not yet replayed a
    write must not build under the cache generation that write already moved."""
    token = _state.set(RoutingState(reads_allowed=False))
    try:
        yield
    finally:
        _state.reset(token)


def pin_user(user_key: str) -> None:
    """Keep `user_key`'s reads on the primary for DATABASE_REPLICA_PIN_SECONDS."""
    state = current_state()
    if user_key in state.pinned_now:
        return
    state.pinned_now.add(user_key)
    with contextlib.suppress(Exception):  # no cache: reads stay on the primary this request
        django_cache.set(PIN_KEY.format(user_key), 1, timeout=settings.DATABASE_REPLICA_PIN_SECONDS)


def user_pinned(user_key: str) -> bool:
    try:
        return django_cache.get(PIN_KEY.format(user_key)) is not None
    except Exception:  # noqa: BLE001 - an unreachable cache must not send reads to a replica
        return True


@cache
def _user_foreign_keys(model: type[models.Model]) -> tuple[str, ...]:
    user_model = settings.AUTH_USER_MODEL.lower()
    names = []
    for model_field in model._meta.concrete_fields:
        remote = getattr(model_field, "related_model", None)
        if remote is not None and remote._meta.label_lower == user_model:
            names.append(model_field.attname)
    return tuple(names)


def _users_of(instance: models.Model | None) -> list[str]:
    if instance is None:
        return []
    if instance._meta.label_lower == settings.AUTH_USER_MODEL.lower():
        return [str(instance.pk)] if instance.pk is not None else []
    values = (getattr(instance, name, None) for name in _user_foreign_keys(type(instance)))
    return [str(value) for value in values if value is not None]


class ReplicaRouter:
    def db_for_read(self, model: type[models.Model], **hints: Any) -> str:
        state = _state.get()
        if state is None or not state.reads_allowed or state.written:
            return PRIMARY
        if model._meta.app_label in settings.DATABASE_REPLICA_PRIMARY_APPS:
            return PRIMARY
        if connections[PRIMARY].in_atomic_block:
            return PRIMARY
        if state.pinned is None:
            state.pinned = True  # the cache lookup below may read a database itself
            state.pinned = state.user_key is not None and user_pinned(state.user_key)
        if state.pinned:
            return PRIMARY
        if state.replica is None:
            state.replica = random.choice(settings.DATABASE_REPLICAS)
        return state.replica

    def db_for_write(self, model: type[models.Model], **hints: Any) -> str:
        if model._meta.app_label in NOT_DATA_APPS:
            return PRIMARY
        state = current_state()
        state.written = True
        if state.user_key is not None:
            pin_user(state.user_key)
        for user_key in _users_of(hints.get("instance")):
            pin_user(user_key)
        return PRIMARY

    def allow_relation(self, obj1: models.Model, obj2: models.Model, **hints: Any) -> bool:
        return True  # every alias holds the same data

    def allow_migrate(self, db: str, app_label: str, **hints: Any) -> bool:
        return db == PRIMARY
