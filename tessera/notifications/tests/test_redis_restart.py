"""A worker meeting a Redis restart (the providers' rate-limit counters live there) retries
the task with backoff instead of failing it for good (the soak's one failed task)."""

from __future__ import annotations

from typing import Any

import pytest
from redis.exceptions import ConnectionError as RedisConnectionError

from tessera.notifications import tasks
from tessera.notifications.sending import deliveries_send_queued

pytestmark = pytest.mark.django_db


def test_send_queued_retries_when_redis_is_briefly_away(monkeypatch: Any) -> None:
    calls: list[str] = []

    def redis_restarting_once(*, channel: str) -> Any:
        calls.append(channel)
        if len(calls) == 1:
            raise RedisConnectionError("Error 111 connecting to 127.0.0.1:6379.")
        return deliveries_send_queued(channel=channel)

    monkeypatch.setattr(tasks, "deliveries_send_queued", redis_restarting_once)
    monkeypatch.setattr(tasks.send_queued, "retry_backoff", False)  # no sleep in eager mode

    result = tasks.send_queued.apply(kwargs={"channel": "email"}, throw=False)

    assert result.successful(), result.traceback
    assert calls == ["email", "email"]
