from __future__ import annotations

from collections.abc import Iterator
from typing import Any

import pytest

from tessera.notifications.sms import MemorySmsProvider


@pytest.fixture(autouse=True)
def _empty_sms_outbox() -> Iterator[None]:
    MemorySmsProvider.outbox.clear()
    yield
    MemorySmsProvider.outbox.clear()


@pytest.fixture
def sms_outbox() -> list[Any]:
    return MemorySmsProvider.outbox


@pytest.fixture
def phone_user(user: Any) -> Any:
    user.phone_number = "+27821234567"
    user.save(update_fields=["phone_number"])
    return user


@pytest.fixture
def admin_client_logged_in(db: Any) -> Any:
    from django.test import Client

    from tessera.accounts.models import User

    admin_user = User.objects.create_superuser(email="admin@example.com", password="x" * 20)
    client = Client()
    client.force_login(admin_user)
    return client


@pytest.fixture
def eager_retries() -> Iterator[None]:
    """Let an eager task retry in place, as a worker would.

    With `task_eager_propagates` on (the test settings), Celery's eager mode re-raises the
    `Retry` that `autoretry_for` produces instead of running the task again.
    """
    from tessera.notifications.tasks import send_delivery

    conf = send_delivery.app.conf
    previous = conf.task_eager_propagates
    conf.task_eager_propagates = False
    yield
    conf.task_eager_propagates = previous
