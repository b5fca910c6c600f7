"""Bearer-token authentication for the API. The token format belongs to accounts; core only
knows the verifier's dotted path (`API_TOKEN_VERIFIER`), so it imports no app."""

from __future__ import annotations

from enum import StrEnum
from functools import lru_cache
from typing import Any, TypeVar

from django.conf import settings
from django.core.exceptions import ValidationError
from django.db.models import Model, QuerySet
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
    def __call__(self, request: HttpRequest) -> Any:
        # Ninja's own version logs the whole header at ERROR (under DEBUG) when the scheme is
        # not Bearer: a password in Basic, someone's token. A header we cannot use is simply
        # no credentials (401), and never logged.
        scheme, _space, token = request.headers.get(self.header, "").partition(" ")
        if scheme.lower() != self.openapi_scheme or not token:
            return None
        return self.authenticate(request, token)

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


def owned_or_404(
    obj: Any, user: Any, *, owner_field: str = "owner_id", allow_staff: bool = False
) -> Any:
    """Another user's object is indistinguishable from no object (staff may pass through
    when `allow_staff`)."""
    if obj is None:
        raise NotFoundError
    if allow_staff and has_role(user, Role.STAFF):
        return obj
    if getattr(obj, owner_field) != getattr(user, "pk", None):
        raise NotFoundError
    return obj


class Role(StrEnum):
    """Who someone is to the platform: a user, staff (the admin site, support tools) or an
    admin (everything, including other people's roles). Stored as Django's `is_staff` and
    `is_superuser` flags; every module asks through these helpers."""

    USER = "user"
    STAFF = "staff"
    ADMIN = "admin"


_ROLE_RANK = {Role.USER: 0, Role.STAFF: 1, Role.ADMIN: 2}


def user_role(user: Any) -> Role:
    if getattr(user, "is_superuser", False):
        return Role.ADMIN
    if getattr(user, "is_staff", False):
        return Role.STAFF
    return Role.USER


def has_role(user: Any, role: Role | str) -> bool:
    """True when `user` holds `role` or a higher one (admin > staff > user)."""
    if user is None or not getattr(user, "is_active", True):
        return False
    return _ROLE_RANK[user_role(user)] >= _ROLE_RANK[Role(role)]


def require_role(request: HttpRequest, role: Role | str) -> Any:
    """The signed-in user if they hold `role`; 401 when nobody is signed in, else 403."""
    user = require_user(request)
    if not has_role(user, role):
        raise PermissionDeniedError
    return user


def require_admin(request: HttpRequest) -> Any:
    return require_role(request, Role.ADMIN)


ModelT = TypeVar("ModelT", bound=Model)


def get_owned_or_404(
    queryset: QuerySet[ModelT],
    *,
    user: Any,
    pk: Any,
    owner_field: str = "owner",
    allow_staff: bool = False,
) -> ModelT:
    """Fetch `pk` from `queryset` only if `user` owns it (one query); otherwise 404, the same
    reply as for an id that does not exist."""
    if not (allow_staff and has_role(user, Role.STAFF)):
        queryset = queryset.filter(**{owner_field: getattr(user, "pk", None)})
    try:
        obj = queryset.filter(pk=pk).first()
    except (ValueError, TypeError, ValidationError):  # not even a well-formed id
        obj = None
    if obj is None:
        raise NotFoundError
    return obj
