"""Bearer-token authentication for the API. The token format belongs to accounts; core only
knows the verifier's dotted path (`API_TOKEN_VERIFIER`), so it imports no app.

The verifier is called as `verifier(token)`, or `verifier(token, prefetch=...)` by a
`BearerAuth(prefetch=...)`: a route whose reply is kept in the cache names the keys it is
about to read, and the verifier reads them in the same round trip as the session
(docs/decisions/0037-cache-reads-with-the-session.md). It only reads them: the token is
checked exactly as without a prefetch, and the values reach the route only once it passed.
"""

from __future__ import annotations

from collections.abc import Callable, Mapping, Sequence
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


# What a route would read from the default cache for this request and the user the token
# names: `(request, user_id) -> keys`. Guessed from the raw request, before validation: the
# route uses a value only under the exact key it computes itself, so a wrong guess is a miss.
PrefetchKeys = Callable[[HttpRequest, str], Sequence[str]]

_NOTHING_PREFETCHED: Mapping[str, Any] = {}


class CachePrefetch:
    """Keys to read with the session: `keys_for(user_id)` is called by the verifier once the
    token's signature and claims hold, and `values` holds what it read, every key asked
    (None when absent), or stays None when nothing was read (no cache, cache down)."""

    __slots__ = ("keys_for", "values")

    def __init__(self, keys_for: Callable[[str], Sequence[str]]) -> None:
        self.keys_for = keys_for
        self.values: dict[str, Any] | None = None


class BearerAuth(HttpBearer):
    def __init__(self, *, prefetch: PrefetchKeys | None = None) -> None:
        super().__init__()
        self.prefetch = prefetch
        self._meta_key = "HTTP_" + self.header.upper().replace("-", "_")

    def __call__(self, request: HttpRequest) -> Any:
        # Ninja's own version logs the whole header at ERROR (under DEBUG) when the scheme is
        # not Bearer: a password in Basic, someone's token. A header we cannot use is simply
        # no credentials (401), and never logged.
        # META, not `request.headers`: building the headers mapping costs more than the check.
        scheme, _space, token = request.META.get(self._meta_key, "").partition(" ")
        if scheme.lower() != self.openapi_scheme or not token:
            return None
        return self.authenticate(request, token)

    def authenticate(self, request: HttpRequest, token: str) -> Any:
        prefetch_keys = self.prefetch
        if prefetch_keys is None:
            user = _verifier()(token)
        else:
            prefetch = CachePrefetch(lambda user_id: prefetch_keys(request, user_id))
            user = _verifier()(token, prefetch=prefetch)
            if user is not None and prefetch.values is not None:
                request.cache_prefetched = prefetch.values  # type: ignore[attr-defined]
        if user is None:
            return None
        request.user = user
        return user


def cache_prefetched(request: HttpRequest) -> Mapping[str, Any]:
    """What the route's `BearerAuth(prefetch=...)` read with the session, keyed by cache key
    (empty when nothing was: no prefetch on this route, no cache, the cache down). Present
    only on a request whose token passed."""
    values: Mapping[str, Any] = getattr(request, "cache_prefetched", _NOTHING_PREFETCHED)
    return values


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
