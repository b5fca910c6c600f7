from __future__ import annotations

from typing import Any

import pytest
from django.test import override_settings

from tessera.core.analytics import analytics_capture
from tests.http_recorder import recording_server

pytestmark = pytest.mark.django_db


def test_without_a_key_nothing_is_queued(django_capture_on_commit_callbacks: Any) -> None:
    with django_capture_on_commit_callbacks() as callbacks:
        queued = analytics_capture(distinct_id="u1", event="signed_up")

    assert queued is False
    assert callbacks == []


def test_events_reach_posthog_through_the_task(django_capture_on_commit_callbacks: Any) -> None:
    with (
        recording_server(reply={"status": 1}) as posthog,
        override_settings(POSTHOG_API_KEY="phc_test_key", POSTHOG_HOST=posthog.url),
        django_capture_on_commit_callbacks(execute=True),
    ):
        queued = analytics_capture(
            distinct_id="user-7", event="capsule_sealed", properties={"theme": "sunset"}
        )

    assert queued is True
    assert len(posthog.requests) == 1
    sent = posthog.requests[0]
    assert sent.method == "POST"
    payload = sent.json()
    assert payload["api_key"] == "phc_test_key"
    [event] = payload["batch"]
    assert event["event"] == "capsule_sealed"
    assert event["distinct_id"] == "user-7"
    assert event["properties"]["theme"] == "sunset"
