from __future__ import annotations

import uuid

import pytest
from django.core.exceptions import ValidationError
from django.db import IntegrityError, transaction

from tessera.accounts.models import User

pytestmark = pytest.mark.django_db


def test_users_have_uuid_ids_and_need_neither_email_nor_phone() -> None:
    phone_only = User.objects.create_user(phone_number="+27821234567")
    neither = User.objects.create_user()

    assert isinstance(phone_only.pk, uuid.UUID)
    assert phone_only.email is None
    assert neither.email is None
    assert neither.phone_number is None
    assert not phone_only.has_usable_password()


def test_many_users_without_email_or_phone_may_coexist() -> None:
    User.objects.create_user()
    User.objects.create_user()

    assert User.objects.filter(email__isnull=True, phone_number__isnull=True).count() == 2


def test_email_is_unique_ignoring_case() -> None:
    User.objects.create_user(email="Ada@Example.com")

    with pytest.raises(ValidationError):
        User.objects.create_user(email="ada@example.com")
    with transaction.atomic(), pytest.raises(IntegrityError):
        User(email="ADA@EXAMPLE.COM").save()


def test_phone_number_is_unique() -> None:
    User.objects.create_user(phone_number="+27821234567")

    with transaction.atomic(), pytest.raises(IntegrityError):
        User(phone_number="+27821234567").save()


def test_blank_email_is_stored_as_null() -> None:
    user = User(email="", phone_number="")
    user.full_clean(exclude=["password"])
    user.save()

    assert User.objects.get(pk=user.pk).email is None


def test_superuser_can_log_in_to_the_admin(client: object) -> None:
    User.objects.create_superuser(email="root@example.com", password="a long admin password")

    assert client.login(username="root@example.com", password="a long admin password")  # type: ignore[attr-defined]
