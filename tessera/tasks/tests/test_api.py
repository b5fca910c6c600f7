from __future__ import annotations

import uuid
from typing import Any

import pytest

from tessera.tasks.models import TaskRecord
from tessera.tasks.services import task_start
from tessera.tasks.tests.sample_tasks import always_fails, count_words

pytestmark = pytest.mark.django_db


@pytest.fixture
def failures_recorded() -> Any:
    """Eager tasks re-raise instead of failing the way a worker does; switch that off."""
    from config.celery import app

    app.conf.task_eager_propagates = False
    yield
    app.conf.task_eager_propagates = True


def start_and_run(task: Any, owner: Any, capture: Any, **kwargs: Any) -> TaskRecord:
    with capture(execute=True):
        return task_start(task=task, owner_id=owner.pk, **kwargs)


def test_owner_polls_a_finished_task_with_progress_and_result(
    user: Any, user_api: Any, django_capture_on_commit_callbacks: Any
) -> None:
    record = start_and_run(
        count_words, user, django_capture_on_commit_callbacks, text="one two three"
    )

    response = user_api.get(f"/api/tasks/{record.id}")

    assert response.status_code == 200
    data = response.json()["data"]
    assert data["id"] == str(record.id)
    assert data["name"] == "tests.count_words"
    assert data["state"] == "SUCCESS"
    assert data["progress"] == {"current": 3, "total": 3, "message": "counted"}
    assert data["result"] == {"words": 3}
    assert data["error"] is None
    assert data["finishedAt"].endswith("Z")


def test_nothing_is_enqueued_when_the_transaction_rolls_back(
    user: Any, django_capture_on_commit_callbacks: Any
) -> None:
    with django_capture_on_commit_callbacks(execute=False) as callbacks:
        record = task_start(task=count_words, owner_id=user.pk, text="a b")
    # The record exists and is pending; the send waits for the commit that never came.
    assert len(callbacks) == 1
    assert TaskRecord.objects.get(pk=record.pk).state == TaskRecord.State.PENDING


def test_a_failed_task_reports_its_error(
    user: Any, user_api: Any, django_capture_on_commit_callbacks: Any, failures_recorded: None
) -> None:
    start_and_run(always_fails, user, django_capture_on_commit_callbacks, reason="disk on fire")
    record = TaskRecord.objects.get(owner=user)

    data = user_api.get(f"/api/tasks/{record.id}").json()["data"]

    assert data["state"] == "FAILURE"
    assert data["error"] == "ValueError: disk on fire"


def test_an_untracked_task_that_fails_lands_in_the_dead_letter_list(
    failures_recorded: None,
) -> None:
    task_id = str(uuid.uuid4())
    always_fails.apply_async(kwargs={"reason": "lost"}, task_id=task_id)

    record = TaskRecord.objects.get(pk=task_id)
    assert record.owner is None
    assert record.state == TaskRecord.State.FAILURE
    assert record.name == "tests.always_fails"


def test_another_users_task_is_not_found(
    user: Any, other_api: Any, django_capture_on_commit_callbacks: Any
) -> None:
    record = start_and_run(count_words, user, django_capture_on_commit_callbacks, text="x")

    response = other_api.get(f"/api/tasks/{record.id}")

    assert response.status_code == 404
    assert response.json()["error"]["code"] == "task_not_found"


def test_anonymous_callers_are_refused(api: Any) -> None:
    response = api.get(f"/api/tasks/{uuid.uuid4()}")

    assert response.status_code == 401
    assert response.json()["error"]["code"] == "not_authenticated"


def test_a_bad_task_id_is_a_clear_422(user_api: Any) -> None:
    response = user_api.get("/api/tasks/not-a-uuid")

    assert response.status_code == 422
    body = response.json()
    assert body["error"]["code"] == "invalid_path_parameter"
    assert "taskId" in body["error"]["fields"]
