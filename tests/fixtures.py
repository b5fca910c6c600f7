"""Fixtures every app's tests use: users, tokens, an API client through the real stack."""

from __future__ import annotations

from typing import Any

import pytest
from django.test import Client


class ApiClient(Client):
    """Django's test client sending JSON bodies by default, with an optional bearer token."""

    def __init__(self, token: str | None = None, **defaults: Any) -> None:
        if token:
            defaults.setdefault("HTTP_AUTHORIZATION", f"Bearer {token}")
        super().__init__(**defaults)

    def post(self, *args: Any, **kwargs: Any) -> Any:
        kwargs.setdefault("content_type", "application/json")
        return super().post(*args, **kwargs)

    def patch(self, *args: Any, **kwargs: Any) -> Any:
        kwargs.setdefault("content_type", "application/json")
        return super().patch(*args, **kwargs)

    def put(self, *args: Any, **kwargs: Any) -> Any:
        kwargs.setdefault("content_type", "application/json")
        return super().put(*args, **kwargs)


@pytest.fixture
def api() -> ApiClient:
    return ApiClient()


@pytest.fixture
def user(db: Any) -> Any:
    from tessera.accounts.models import User

    return User.objects.create_user(
        email="ada@example.com", password="correct horse battery", name="Ada"
    )


@pytest.fixture
def other_user(db: Any) -> Any:
    from tessera.accounts.models import User

    return User.objects.create_user(
        email="grace@example.com", password="another long pass", name="Grace"
    )


@pytest.fixture
def user_api(user: Any) -> ApiClient:
    from tessera.accounts.tokens import access_token_issue

    return ApiClient(token=access_token_issue(user=user))


@pytest.fixture
def other_api(other_user: Any) -> ApiClient:
    from tessera.accounts.tokens import access_token_issue

    return ApiClient(token=access_token_issue(user=other_user))
