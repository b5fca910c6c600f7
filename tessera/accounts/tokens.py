"""Access JWTs (HS256, key id in the header so keys can rotate without logging anyone out).

The refresh-token family, rotation and reuse detection come with the sign-in flows.
"""

from __future__ import annotations

import uuid
from datetime import UTC, datetime, timedelta
from typing import Any

import jwt
from django.conf import settings

from tessera.accounts.models import User

ACCESS_TOKEN_TYPE = "access"  # noqa: S105 - a claim value, not a secret


def _keys() -> dict[str, str]:
    return dict(settings.JWT_SIGNING_KEYS)


def access_token_issue(*, user: User, lifetime: timedelta | None = None) -> str:
    now = datetime.now(tz=UTC)
    kid = settings.JWT_ACTIVE_KEY_ID
    claims = {
        "sub": str(user.pk),
        "type": ACCESS_TOKEN_TYPE,
        "iat": now,
        "exp": now + (lifetime or timedelta(seconds=settings.JWT_ACCESS_TOKEN_LIFETIME_SECONDS)),
        "jti": uuid.uuid4().hex,
        "iss": settings.JWT_ISSUER,
    }
    return jwt.encode(claims, _keys()[kid], algorithm="HS256", headers={"kid": kid})


def access_token_verify(token: str) -> User | None:
    """The active user the token names, or None for any invalid, expired or forged token."""
    try:
        header = jwt.get_unverified_header(token)
        key = _keys().get(str(header.get("kid", "")))
        if key is None:
            return None
        claims: dict[str, Any] = jwt.decode(
            token,
            key,
            algorithms=["HS256"],
            issuer=settings.JWT_ISSUER,
            options={"require": ["exp", "iat", "sub", "type"]},
        )
    except jwt.PyJWTError:
        return None
    if claims.get("type") != ACCESS_TOKEN_TYPE:
        return None
    try:
        user_id = uuid.UUID(str(claims["sub"]))
    except ValueError:
        return None
    return User.objects.filter(pk=user_id, is_active=True).first()
