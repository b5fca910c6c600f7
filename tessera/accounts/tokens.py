"""Access JWTs (HS256, key id in the header so keys can rotate without logging anyone out) and
the opaque refresh tokens that rotate on every use (`services/sessions.py`).

An access token issued at sign-in names its session (`sid`): it stops working the moment
the session ends (logout, reuse detection, password change). The check is one indexed join
of session and user, cached for a minute under the user's generation (`authcache`), so most
authenticated requests make no query at all.
"""

from __future__ import annotations

import base64
import hashlib
import hmac
import secrets
import uuid
from datetime import UTC, datetime, timedelta
from typing import Any

import jwt
import orjson
from django.conf import settings
from django.utils import timezone

from tessera.accounts.authcache import (
    auth_cache_get,
    auth_cache_set,
    entry_user_values,
)
from tessera.accounts.models import CACHED_USABLE_PASSWORD, AuthSession, User
from tessera.core.auth import CachePrefetch

ACCESS_TOKEN_TYPE = "access"  # noqa: S105 - a claim value, not a secret
REFRESH_TOKEN_BYTES = 32
_USER_FIELDS = [field.attname for field in User._meta.concrete_fields]


def _keys() -> dict[str, str]:
    keys: dict[str, str] = settings.JWT_SIGNING_KEYS
    return keys


def access_token_issue(
    *, user: User, session: AuthSession | None = None, lifetime: timedelta | None = None
) -> str:
    now = datetime.now(tz=UTC)
    kid = settings.JWT_ACTIVE_KEY_ID
    claims: dict[str, Any] = {
        "sub": str(user.pk),
        "type": ACCESS_TOKEN_TYPE,
        "iat": now,
        "exp": now + (lifetime or timedelta(seconds=settings.JWT_ACCESS_TOKEN_LIFETIME_SECONDS)),
        "jti": uuid.uuid4().hex,
        "iss": settings.JWT_ISSUER,
    }
    if session is not None:
        claims["sid"] = str(session.pk)
    return jwt.encode(claims, _keys()[kid], algorithm="HS256", headers={"kid": kid})


def _b64decode(segment: str) -> bytes:
    # Strict: a character outside the URL-safe alphabet fails (binascii.Error is a ValueError).
    return base64.b64decode(segment + "=" * (-len(segment) % 4), altchars=b"-_", validate=True)


# Encoded headers already checked (they repeat for every token of a key): segment -> kid.
_checked_headers: dict[str, str] = {}
_CHECKED_HEADERS_MAX = 64


def _header_kid(segment: str) -> str | None:
    """The key id of an acceptable header: HS256, a string `kid`, no `crit`. Anything else
    (`alg: none`, another algorithm, a header that is not a JSON object) is None."""
    kid = _checked_headers.get(segment)
    if kid is not None:
        return kid
    try:
        header = orjson.loads(_b64decode(segment))
    except ValueError:
        return None
    if not isinstance(header, dict) or header.get("alg") != "HS256" or "crit" in header:
        return None
    kid = header.get("kid")
    if not isinstance(kid, str):
        return None
    if len(_checked_headers) < _CHECKED_HEADERS_MAX:
        _checked_headers[segment] = kid
    return kid


def _int_claim(claims: dict[str, Any], name: str) -> int | None:
    value = claims.get(name)
    if isinstance(value, bool) or not isinstance(value, int | float):
        return None
    return int(value)


def access_token_claims(token: str) -> dict[str, Any] | None:
    """The verified claims of an access token, or None for any invalid, expired or forged one.

    Only HS256 with a listed key id is accepted: `alg: none`, another algorithm, an unknown
    key id or a tampered payload all fail here. This runs on every authenticated request, so
    it is a direct HMAC check (about 5 µs) rather than PyJWT's decode (about 75 µs): the
    same rules as PyJWT for this one algorithm (tests compare the two on forged tokens), and
    tokens are still issued by PyJWT. See docs/decisions/0011-authenticated-hot-path.md.
    """
    parts = token.split(".")
    if len(parts) != 3:  # header.payload.signature
        return None
    header, payload, signature = parts
    kid = _header_kid(header)
    key = _keys().get(kid) if kid is not None else None
    if key is None:
        return None
    try:
        expected = hmac.new(key.encode(), f"{header}.{payload}".encode(), hashlib.sha256)
        if not hmac.compare_digest(expected.digest(), _b64decode(signature)):
            return None
        claims = orjson.loads(_b64decode(payload))
    except ValueError:
        return None
    if not isinstance(claims, dict):
        return None
    now = datetime.now(tz=UTC).timestamp()
    exp, iat = _int_claim(claims, "exp"), _int_claim(claims, "iat")
    if exp is None or iat is None or exp <= now or iat > now:
        return None
    nbf = claims.get("nbf")
    if nbf is not None and (_int_claim(claims, "nbf") is None or int(nbf) > now):
        return None
    if "aud" in claims or claims.get("iss") != settings.JWT_ISSUER:
        return None
    if claims.get("type") != ACCESS_TOKEN_TYPE or not isinstance(claims.get("sub"), str):
        return None
    return claims


def _uuid(value: Any) -> uuid.UUID | None:
    try:
        return uuid.UUID(str(value))
    except ValueError:
        return None


def access_token_verify(token: str, *, prefetch: CachePrefetch | None = None) -> User | None:
    """The active user the token names (with `auth_session_id` set), or None.

    `prefetch` (a route's `BearerAuth(prefetch=...)`): once the signature and claims hold,
    its keys for the user the token names are read in the session's own round trip and left
    in `prefetch.values`; the session is checked exactly as without them."""
    claims = access_token_claims(token)
    if claims is None:
        return None
    user_id = _uuid(claims["sub"])
    if user_id is None:
        return None
    if "sid" not in claims:
        # Tokens minted without a session (tests, internal tools) live only until they expire.
        return User.objects.filter(pk=user_id, is_active=True).first()
    session_id = _uuid(claims["sid"])
    if session_id is None:
        return None
    also = prefetch.keys_for(str(user_id)) if prefetch is not None else ()
    read = auth_cache_get(session_id=session_id, user_id=user_id, also=also)
    if prefetch is not None:
        prefetch.values = read.also
    if read.entry is not None:
        user = User.from_db("default", _USER_FIELDS, entry_user_values(read.entry))
        user.auth_session_id = session_id
        user.auth_generation = read.generation
        user.auth_cached_me = read.me
        return user
    now = timezone.now()
    found = list(
        AuthSession.objects.select_related("user")
        .filter(
            pk=session_id,
            user_id=user_id,
            user__is_active=True,
            revoked_at__isnull=True,
            expires_at__gt=now,
        )
        .order_by()[:1]
    )
    if not found:
        return None
    session = found[0]
    if (now - session.last_used_at).total_seconds() > settings.AUTH_SESSION_TOUCH_SECONDS:
        AuthSession.objects.filter(pk=session.pk).update(last_used_at=now)
    user = session.user
    auth_cache_set(
        session_id=session_id,
        user_id=user_id,
        generation=read.generation,
        expires_at=session.expires_at.timestamp(),
        user_values=[_cacheable(user, name) for name in _USER_FIELDS],
    )
    user.auth_session_id = session.pk
    user.auth_generation = read.generation
    user.auth_cached_me = read.me
    return user


def _cacheable(user: User, name: str) -> Any:
    if name != "password":
        return getattr(user, name)
    return CACHED_USABLE_PASSWORD if user.has_usable_password() else "!cached"


def refresh_token_new() -> tuple[str, str]:
    """A fresh refresh token and the hash stored for it."""
    token = secrets.token_urlsafe(REFRESH_TOKEN_BYTES)
    return token, refresh_token_hash(token)


def refresh_token_hash(token: str) -> str:
    # The token is 256 random bits: a plain SHA-256 cannot be reversed or guessed.
    return hashlib.sha256(token.encode()).hexdigest()
