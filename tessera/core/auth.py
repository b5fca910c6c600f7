"""Bearer-token authentication for the API. The token format belongs to accounts; core only
knows the verifier's dotted path (`API_TOKEN_VERIFIER`), so it imports no app."""

from __future__ import annotations

from functools import lru_cache
from typing import Any

from django.conf import settings
from django.http import HttpRequest
from django.utils.module_loading import import_string
from ninja.security import HttpBearer

from tessera.core.errors import (
    AuthenticationRequiredError,
    NotFoundError,
    PermissionDeniedError,
)


@lru_cache(maxsize=1)
def _verifier() -> Any:
    return import_string(settings.API_TOKEN_VERIFIER)


class BearerAuth(HttpBearer):
    def authenticate(self, request: HttpRequest, token: str) -> Any:
        user = _verifier()(token)
        if user is None:
            return None
        request.user = user
        return user


bearer_auth = BearerAuth()


def require_user(request: HttpRequest) -> Any:
    user = getattr(request, "auth", None)
    if user is None:
        raise AuthenticationRequiredError
    return user


def require_staff(request: HttpRequest) -> Any:
    user = require_user(request)
    if not user.is_staff:
        raise PermissionDeniedError
    return user


def owned_or_404(obj: Any, user: Any, *, owner_field: str = "owner_id") -> Any:
    """Another user's object is indistinguishable from no object."""
    if obj is None or getattr(obj, owner_field) != getattr(user, "pk", None):
        raise NotFoundError
    return obj
