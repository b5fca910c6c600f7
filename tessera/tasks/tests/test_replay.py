"""manage.py tasks_replay: failed tasks sent again under their own ids."""

from __future__ import annotations

import uuid
from io import StringIO
from typing import Any

import pytest
from django.core.management import CommandError, call_command
from django.utils import timezone

from tessera.tasks.models import TaskRecord

# Serialized rollback like every transactional test here: a flush without it re-creates the
# content types (post_migrate), and the next serialized test, on the same xdist worker, then
# loads its saved copy on top of them (IntegrityError on django_content_type at setup).
pytestmark = pytest.mark.django_db(transaction=True, serialized_rollback=True)


def _failed(name: str, **arguments: Any) -> TaskRecord:
    return TaskRecord.objects.create(
        id=uuid.uuid4(),
        name=name,
        state=TaskRecord.State.FAILURE,
        error="ConnectionError: x",
        arguments=arguments,
        finished_at=timezone.now(),
    )


def test_a_failed_task_runs_again_and_its_record_follows() -> None:
    record = _failed("core.purge_idempotency_records")
    other = _failed("files.cleanup")
    out = StringIO()

    call_command("tasks_replay", "--name", "core.purge_idempotency_records", stdout=out)

    record.refresh_from_db()
    other.refresh_from_db()
    assert record.state == TaskRecord.State.SUCCESS  # eager in tests: it ran, under its own id
    assert other.state == TaskRecord.State.FAILURE
    assert "1 task(s) sent" in out.getvalue()


def test_a_dry_run_sends_nothing() -> None:
    record = _failed("core.purge_idempotency_records")
    out = StringIO()

    call_command("tasks_replay", "--dry-run", stdout=out)

    record.refresh_from_db()
    assert record.state == TaskRecord.State.FAILURE
    assert f"would send core.purge_idempotency_records {record.pk}" in out.getvalue()


def test_an_unregistered_task_name_is_refused() -> None:
    _failed("nowhere.no_such_task")
    with pytest.raises(CommandError, match=r"no task registered as nowhere\.no_such_task"):
        call_command("tasks_replay")
