from __future__ import annotations

from typing import Any

import pytest

from tessera.content import demo


@pytest.fixture
def site(db: Any) -> int:
    """The demo site, as if committed: its rebuild has run and is no longer pending (the
    test's own transaction never commits)."""
    from django.db import connection

    from tessera.content.signals import rebuild_after_commit

    created = demo.load()
    connection.run_on_commit = [
        entry for entry in connection.run_on_commit if entry[1] is not rebuild_after_commit
    ]
    return created


@pytest.fixture
def staff_api(db: Any) -> Any:
    from tessera.accounts.models import User
    from tessera.accounts.tokens import access_token_issue
    from tests.fixtures import ApiClient

    staff = User.objects.create_user(
        email="editor@example.com", password="correct horse battery", name="Ed", is_staff=True
    )
    return ApiClient(token=access_token_issue(user=staff))


@pytest.fixture(autouse=True)
def media_store(settings: Any, tmp_path: Any) -> Any:
    """Stored files (the images) in a folder of the test's own, served locally."""
    from tessera.files.storage import file_store

    settings.FILES_STORAGE_BACKEND = "local"
    settings.MEDIA_ROOT = tmp_path / "media"
    settings.FILES_PUBLIC_BASE_URL = ""
    file_store.cache_clear()
    yield file_store()
    file_store.cache_clear()


@pytest.fixture
def commit_pending(django_capture_on_commit_callbacks: Any) -> Any:
    """Run what the test's transaction would have run on commit (the image processing task,
    eager in tests), except the rebuilds the test has already accounted for, and whatever
    those callbacks schedule in turn (the rebuild once an image is ready)."""
    from django.db import connection

    from tessera.content.signals import rebuild_after_commit

    def run() -> None:
        pending = [entry[1] for entry in connection.run_on_commit]
        connection.run_on_commit = []
        with django_capture_on_commit_callbacks(execute=True):
            for callback in pending:
                if callback is not rebuild_after_commit:
                    callback()

    return run
