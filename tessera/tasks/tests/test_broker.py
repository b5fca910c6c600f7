"""The job machinery against real brokers: a real Celery worker thread consumes from
RabbitMQ (and from Redis) and the TaskRecord follows the task to its end."""

from __future__ import annotations

import time
from collections.abc import Iterator
from typing import Any

import pytest
from celery.contrib.testing.worker import start_worker

from config.celery import app
from tessera.tasks.models import TaskRecord
from tessera.tasks.services import task_start
from tessera.tasks.tests.sample_tasks import always_fails, count_words

pytestmark = pytest.mark.django_db(transaction=True, serialized_rollback=True)


def wait_for_state(record_id: Any, states: set[str], timeout: float = 30) -> TaskRecord:
    deadline = time.monotonic() + timeout
    while time.monotonic() < deadline:
        record = TaskRecord.objects.get(pk=record_id)
        if record.state in states:
            return record
        time.sleep(0.1)
    raise AssertionError(f"task {record_id} did not reach {states}: {record.state}")


def reset_connection_pools() -> None:
    # The app caches its broker connection and producer pools; drop them so the next
    # publish connects to the broker now configured.
    app._pool = None  # type: ignore[attr-defined]
    app.amqp._producer_pool = None  # type: ignore[attr-defined]


@pytest.fixture
def live_worker(request: Any) -> Iterator[None]:
    broker = request.getfixturevalue(request.param)
    previous = {k: app.conf[k] for k in ("broker_url", "task_always_eager")}
    app.conf.update(broker_url=broker, task_always_eager=False)
    reset_connection_pools()
    try:
        with start_worker(
            app,
            pool="threads",
            concurrency=1,
            perform_ping_check=False,
            shutdown_timeout=60,
            loglevel="WARNING",
        ):
            yield
    finally:
        app.conf.update(previous)
        reset_connection_pools()


@pytest.mark.broker
@pytest.mark.parametrize("live_worker", ["broker_url"], indirect=True)
def test_rabbitmq_worker_runs_tracked_tasks_to_success_and_failure(
    live_worker: None, user: Any
) -> None:
    # One worker for both cases: a RabbitMQ worker thread takes ~10 s to shut down.
    succeeding = task_start(task=count_words, owner_id=user.pk, text="alpha beta")
    failing = task_start(task=always_fails, owner_id=user.pk, reason="boom")

    succeeded = wait_for_state(succeeding.pk, {"SUCCESS", "FAILURE"})
    failed = wait_for_state(failing.pk, {"SUCCESS", "FAILURE"})

    assert succeeded.state == "SUCCESS"
    assert succeeded.result == {"words": 2}
    assert succeeded.started_at is not None
    assert failed.state == "FAILURE"
    assert failed.error == "ValueError: boom"


@pytest.mark.redis
@pytest.mark.parametrize("live_worker", ["redis_url"], indirect=True)
def test_redis_broker_worker_runs_a_tracked_task(live_worker: None, user: Any) -> None:
    record = task_start(task=count_words, owner_id=user.pk, text="one")

    finished = wait_for_state(record.pk, {"SUCCESS", "FAILURE"})

    assert finished.state == "SUCCESS"
    assert finished.result == {"words": 1}
