"""A drain slot's marker holds its owner's token: only the owner frees it.

Each test runs on the configured cache (local memory on the default lane, Redis on the
services lane) and on a real Redis (skipped, with the reason, when none is reachable).
"""

from __future__ import annotations

import time
from collections.abc import Iterator
from typing import Any

import pytest
from django.conf import settings as django_settings
from django.core.cache import cache

from tessera.core import jobs
from tessera.core.jobs import drain_release, drain_schedule
from tessera.core.outages import CACHE_CONNECTION_ERRORS

NAME = "tests.slots"


class _SentTasks:
    """Stands in for a Celery task: records what `drain_schedule` sends."""

    def __init__(self) -> None:
        self.sent: list[dict[str, Any]] = []

    def apply_async(self, *, kwargs: dict[str, Any], countdown: float | None = None) -> None:
        self.sent.append(kwargs)


@pytest.fixture(params=["configured", "redis"])
def drain_cache(request: pytest.FixtureRequest, settings: Any) -> Iterator[str]:
    if request.param == "redis":
        url = request.getfixturevalue("redis_url")
        settings.CACHES = {
            "default": {
                "BACKEND": "tests.cache.IsolatedRedisCache",
                "LOCATION": url,
                "KEY_PREFIX": "tessera-test-drain-slots",
                "OPTIONS": django_settings.REDIS_CACHE_OPTIONS,
            }
        }
    cache.clear()
    yield request.param
    cache.clear()


def _marker(slot: int) -> Any:
    return cache.get(f"tessera:drain:{NAME}:{slot}")


def _expire(slot: int) -> None:
    """The marker's expiry, without waiting for it (one test waits for a real one)."""
    cache.delete(f"tessera:drain:{NAME}:{slot}")


@pytest.mark.usefixtures("drain_cache")
def test_a_stale_owner_does_not_free_the_slot_of_the_drain_that_claimed_it_since() -> None:
    task = _SentTasks()
    assert drain_schedule(task, name=NAME) is True
    stale = task.sent[0]["slot_token"]
    _expire(0)  # the first drain ran past marker_seconds
    assert drain_schedule(task, name=NAME) is True  # a second drain claims the slot
    owner = task.sent[1]["slot_token"]
    assert (task.sent[1]["slot"], owner != stale) == (0, True)

    assert drain_release(name=NAME, slot=0, token=stale) is False  # the first drain ends

    assert _marker(0) == owner
    assert drain_schedule(task, name=NAME) is False  # no third drain while the second runs
    assert len(task.sent) == 2


@pytest.mark.usefixtures("drain_cache")
def test_the_owner_frees_its_slot_once() -> None:
    task = _SentTasks()
    drain_schedule(task, name=NAME, slots=2)
    drain_schedule(task, name=NAME, slots=2)
    first, second = task.sent

    assert drain_release(name=NAME, slot=1, token=second["slot_token"]) is True

    assert (_marker(0), _marker(1)) == (first["slot_token"], None)
    assert drain_release(name=NAME, slot=1, token=second["slot_token"]) is False
    assert drain_schedule(task, name=NAME, slots=2) is True
    assert task.sent[-1]["slot"] == 1


@pytest.mark.usefixtures("drain_cache")
def test_a_task_queued_before_tokens_frees_its_slot_as_it_did() -> None:
    task = _SentTasks()
    drain_schedule(task, name=NAME)
    # Sent by the previous release: `{"slot": 0}`, no token.
    assert drain_release(name=NAME, slot=0) is True

    assert _marker(0) is None
    assert drain_schedule(task, name=NAME) is True
    # A marker written by the previous release (`cache.add(key, 1)`) is freed by its task too.
    _expire(0)
    cache.add(f"tessera:drain:{NAME}:0", 1, timeout=60)
    assert drain_release(name=NAME, slot=0) is True
    assert _marker(0) is None


@pytest.mark.usefixtures("drain_cache")
def test_a_run_without_a_slot_frees_nothing() -> None:
    task = _SentTasks()
    drain_schedule(task, name=NAME)

    assert drain_release(name=NAME, slot=None) is False
    assert drain_release(name=NAME, slot=None, token=task.sent[0]["slot_token"]) is False

    assert _marker(0) == task.sent[0]["slot_token"]


@pytest.mark.usefixtures("drain_cache")
def test_a_marker_that_really_expired_is_claimed_again_and_kept_from_its_stale_owner() -> None:
    task = _SentTasks()
    drain_schedule(task, name=NAME, marker_seconds=1)
    time.sleep(1.2)
    drain_schedule(task, name=NAME, marker_seconds=60)
    stale, owner = (kwargs["slot_token"] for kwargs in task.sent)

    assert drain_release(name=NAME, slot=0, token=stale) is False

    assert _marker(0) == owner


def test_with_the_cache_unreachable_the_drain_is_sent_without_a_slot(
    monkeypatch: pytest.MonkeyPatch,
) -> None:
    def unreachable(*args: Any) -> None:
        raise CACHE_CONNECTION_ERRORS[0]

    monkeypatch.setattr(jobs, "_claim_slot", unreachable)
    task = _SentTasks()

    assert drain_schedule(task, name=NAME, kwargs={"channel": "sms"}) is True

    assert task.sent == [{"channel": "sms", "slot": None, "slot_token": None}]
