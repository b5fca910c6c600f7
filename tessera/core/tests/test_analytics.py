"""Analytics: queued after commit, sent by a task, never in the way of a request. The PostHog
adapter is tested against HTTP served on loopback."""

from __future__ import annotations

import uuid
from typing import Any

import pytest
import structlog
from django.db import transaction
from django.test import override_settings
from kombu.exceptions import OperationalError

from tessera.core import tasks
from tessera.core.analytics import (
    AnalyticsEvent,
    AnalyticsUnavailableError,
    analytics_capture,
    posthog_send,
)
from tests.http_recorder import recording_server

pytestmark = pytest.mark.django_db


def test_without_a_key_nothing_is_queued(django_capture_on_commit_callbacks: Any) -> None:
    with django_capture_on_commit_callbacks() as callbacks:
        queued = analytics_capture(distinct_id="u1", event=AnalyticsEvent.USER_SIGNED_UP)

    assert queued is False
    assert callbacks == []


def test_events_reach_posthog_through_the_task(django_capture_on_commit_callbacks: Any) -> None:
    with (
        recording_server(reply={"status": 1}) as posthog,
        override_settings(POSTHOG_API_KEY="phc_test_key", POSTHOG_HOST=posthog.url),
        django_capture_on_commit_callbacks(execute=True),
    ):
        queued = analytics_capture(
            distinct_id="user-7",
            event=AnalyticsEvent.CAPSULE_SEALED,
            properties={"days_until_unlock": 30},
        )
        assert posthog.requests == []  # nothing before the commit

    assert queued is True
    assert len(posthog.requests) == 1
    sent = posthog.requests[0]
    assert sent.method == "POST"
    assert sent.path == "/batch/"
    payload = sent.json()
    assert payload["api_key"] == "phc_test_key"
    [event] = payload["batch"]
    assert event["event"] == "capsule_sealed"
    assert event["distinct_id"] == "user-7"
    assert event["properties"]["days_until_unlock"] == 30
    assert event["properties"]["$lib"] == "tessera"
    assert uuid.UUID(event["uuid"])
    assert event["timestamp"].endswith("+00:00")


def test_a_rolled_back_write_sends_nothing(django_capture_on_commit_callbacks: Any) -> None:
    def failing_write() -> None:
        with transaction.atomic():
            analytics_capture(distinct_id="u1", event=AnalyticsEvent.USER_LOGGED_IN)
            raise RuntimeError("the write failed")

    with (
        override_settings(POSTHOG_API_KEY="phc_test_key"),
        django_capture_on_commit_callbacks() as callbacks,
        pytest.raises(RuntimeError),
    ):
        failing_write()

    assert callbacks == []


def test_a_broker_that_is_down_drops_the_event_not_the_caller(
    django_capture_on_commit_callbacks: Any, monkeypatch: Any
) -> None:
    def broker_down(*args: Any, **kwargs: Any) -> None:
        raise OperationalError("[Errno 111] Connection refused")

    monkeypatch.setattr(tasks.posthog_capture, "apply_async", broker_down)
    with (
        override_settings(POSTHOG_API_KEY="phc_test_key"),
        structlog.testing.capture_logs() as logs,
        django_capture_on_commit_callbacks(execute=True),
    ):
        queued = analytics_capture(distinct_id="u1", event=AnalyticsEvent.USER_LOGGED_IN)

    assert queued is True
    assert [entry["event"] for entry in logs] == ["analytics_enqueue_failed"]


def send(url: str) -> bool:
    with override_settings(POSTHOG_API_KEY="phc_test_key", POSTHOG_HOST=url):
        return posthog_send(
            distinct_id="u1", event="user_logged_in", properties={}, uuid=str(uuid.uuid4())
        )


@pytest.mark.parametrize("status", [500, 503, 429])
def test_posthog_unavailable_is_an_error_the_task_retries(status: int) -> None:
    with recording_server(status=status) as posthog, pytest.raises(AnalyticsUnavailableError):
        send(posthog.url)

    assert len(posthog.requests) == 1
    assert issubclass(AnalyticsUnavailableError, tasks.posthog_capture.autoretry_for)


def test_posthog_unreachable_is_an_error_the_task_retries() -> None:
    with recording_server() as posthog:
        dead = posthog.url  # closed when the block ends
    with pytest.raises(AnalyticsUnavailableError):
        send(dead)


def test_an_event_posthog_refuses_is_dropped_not_retried() -> None:
    with (
        recording_server(status=400, reply={"detail": "bad"}) as posthog,
        structlog.testing.capture_logs() as logs,
    ):
        assert send(posthog.url) is False

    assert [entry["event"] for entry in logs] == ["analytics_event_refused"]


def test_the_task_retries_until_posthog_takes_the_event_once() -> None:
    event_id = str(uuid.uuid4())
    with (
        recording_server(reply={"status": 1}) as posthog,
        override_settings(POSTHOG_API_KEY="phc_test_key", POSTHOG_HOST=posthog.url),
    ):
        posthog.first_statuses = [503]
        result = tasks.posthog_capture.apply(
            kwargs={
                "distinct_id": "u1",
                "event": "user_logged_in",
                "properties": {"method": "password"},
                "uuid": event_id,
                "timestamp": "2026-12-01T10:00:00+00:00",
            },
            throw=False,  # eager mode: let apply() run the retry, as a worker would
        )

    assert result.get() is True
    bodies = [request.json() for request in posthog.requests]
    assert len(bodies) == 2
    assert {body["batch"][0]["uuid"] for body in bodies} == {event_id}  # one event for PostHog
    assert bodies[1]["batch"][0]["timestamp"] == "2026-12-01T10:00:00+00:00"
