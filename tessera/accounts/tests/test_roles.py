"""Roles and the ownership helpers in core that every module uses."""

from __future__ import annotations

import uuid
from typing import Any

import pytest
from django.test import RequestFactory

from tessera.accounts.models import AuthSession, User
from tessera.core.auth import (
    Role,
    get_owned_or_404,
    has_role,
    owned_or_404,
    require_admin,
    require_role,
    user_role,
)
from tessera.core.errors import AuthenticationRequiredError, NotFoundError, PermissionDeniedError
from tessera.tasks.models import TaskRecord

pytestmark = pytest.mark.django_db


@pytest.fixture
def staff(db: Any) -> User:
    return User.objects.create_user(email="staff@example.com", is_staff=True)


@pytest.fixture
def admin_user(db: Any) -> User:
    return User.objects.create_superuser(email="root@example.com", password="x" * 20)


def request_as(user: Any) -> Any:
    request = RequestFactory().get("/")
    request.auth = user  # type: ignore[attr-defined]
    return request


def test_roles_follow_the_staff_and_superuser_flags(user: Any, staff: Any, admin_user: Any) -> None:
    assert [user_role(u) for u in (user, staff, admin_user)] == [Role.USER, Role.STAFF, Role.ADMIN]
    assert has_role(admin_user, Role.STAFF)
    assert not has_role(user, "staff")
    staff.is_active = False
    assert not has_role(staff, Role.USER)


def test_require_role(user: Any, staff: Any, admin_user: Any) -> None:
    assert require_role(request_as(staff), Role.STAFF) is staff
    assert require_admin(request_as(admin_user)) is admin_user
    with pytest.raises(PermissionDeniedError):
        require_role(request_as(user), Role.STAFF)
    with pytest.raises(PermissionDeniedError):
        require_admin(request_as(staff))
    with pytest.raises(AuthenticationRequiredError):
        require_role(request_as(None), Role.USER)


def test_another_users_object_is_a_404(user: Any, other_user: Any, staff: Any) -> None:
    record = TaskRecord.objects.create(
        id=uuid.UUID("6f1c5a52-1111-4a5e-9d0c-000000000001"), owner=user, name="t"
    )

    assert owned_or_404(record, user) is record
    with pytest.raises(NotFoundError):
        owned_or_404(record, other_user)
    with pytest.raises(NotFoundError):
        owned_or_404(None, user)
    assert owned_or_404(record, staff, allow_staff=True) is record
    with pytest.raises(NotFoundError):
        owned_or_404(record, staff)


def test_get_owned_or_404_filters_in_the_query(user: Any, other_user: Any, staff: Any) -> None:
    record = TaskRecord.objects.create(
        id=uuid.UUID("6f1c5a52-1111-4a5e-9d0c-000000000002"), owner=user, name="t"
    )
    tasks = TaskRecord.objects.all()

    assert get_owned_or_404(tasks, user=user, pk=record.pk) == record
    for who, pk in ((other_user, record.pk), (user, "not-a-uuid"), (user, None)):
        with pytest.raises(NotFoundError):
            get_owned_or_404(tasks, user=who, pk=pk)
    assert get_owned_or_404(tasks, user=staff, pk=record.pk, allow_staff=True) == record
    assert AuthSession.objects.count() == 0
