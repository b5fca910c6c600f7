"""Fixtures every app's tests use: users, tokens, an API client through the real stack."""

from __future__ import annotations

from typing import Any

import pytest
from django.test import Client


class ApiClient(Client):
    """Django's test client, JSON by default, with an optional bearer token."""

    def __init__(self, token: str | None = None, **kwargs: Any) -> None:
        super().__init__(**kwargs)
        self.token = token

    def _auth(self, extra: dict[str, Any]) -> dict[str, Any]:
        if self.token and "HTTP_AUTHORIZATION" not in extra:
            extra["HTTP_AUTHORIZATION"] = f"Bearer {self.token}"
        return extra

    def get(self, path: str, data: Any = None, **extra: Any) -> Any:  # type: ignore[override]
        return super().get(path, data, **self._auth(extra))

    def post(self, path: str, data: Any = None, content_type: str = "application/json",
             **extra: Any) -> Any:  # type: ignore[override]
        return super().post(path, data, content_type=content_type, **self._auth(extra))

    def patch(self, path: str, data: Any = None, content_type: str = "application/json",
              **extra: Any) -> Any:  # type: ignore[override]
        return super().patch(path, data, content_type=content_type, **self._auth(extra))

    def put(self, path: str, data: Any = None, content_type: str = "application/json",
            **extra: Any) -> Any:  # type: ignore[override]
        return super().put(path, data, content_type=content_type, **self._auth(extra))

    def delete(self, path: str, data: Any = None, content_type: str = "application/json",
               **extra: Any) -> Any:  # type: ignore[override]
        return super().delete(path, data, content_type=content_type, **self._auth(extra))


@pytest.fixture
def api() -> ApiClient:
    return ApiClient()


@pytest.fixture
def user(db: Any) -> Any:
    from tessera.accounts.models import User

    return User.objects.create_user(email="ada@example.com", password="correct horse battery",
                                    name="Ada")


@pytest.fixture
def other_user(db: Any) -> Any:
    from tessera.accounts.models import User

    return User.objects.create_user(email="grace@example.com", password="another long pass",
                                    name="Grace")


@pytest.fixture
def user_api(user: Any) -> ApiClient:
    from tessera.accounts.tokens import access_token_issue

    return ApiClient(token=access_token_issue(user=user))


@pytest.fixture
def other_api(other_user: Any) -> ApiClient:
    from tessera.accounts.tokens import access_token_issue

    return ApiClient(token=access_token_issue(user=other_user))
