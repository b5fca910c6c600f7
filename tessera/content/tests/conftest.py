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
