"""Writes on accounts. The sign-up and login flows build on `user_create`."""

from __future__ import annotations

from django.db import transaction

from tessera.accounts.models import User


def user_create(
    *,
    email: str | None = None,
    phone_number: str | None = None,
    password: str | None = None,
    name: str = "",
    language: str = "en",
) -> User:
    with transaction.atomic():
        return User.objects.create_user(
            email=email,
            phone_number=phone_number,
            password=password,
            name=name,
            language=language,
        )
