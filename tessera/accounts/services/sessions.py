"""Sign-in sessions: the token pair, refresh rotation with reuse detection, logout."""

from __future__ import annotations

import uuid
from dataclasses import dataclass
from datetime import timedelta
from typing import Any

from django.conf import settings
from django.db import transaction
from django.utils import timezone

from tessera.accounts.authcache import auth_cache_invalidate
from tessera.accounts.errors import (
    InvalidRefreshTokenError,
    RefreshTokenReusedError,
    SessionNotFoundError,
)
from tessera.accounts.models import AuthSession, RefreshToken, User
from tessera.accounts.tokens import access_token_issue, refresh_token_hash, refresh_token_new
from tessera.audit.services import audit_record
from tessera.core.analytics import AnalyticsEvent, analytics_capture
from tessera.core.context import ClientContext
from tessera.notifications.services import notify


@dataclass(frozen=True)
class TokenPair:
    access_token: str
    refresh_token: str
    expires_in: int
    refresh_expires_in: int
    user: User
    session: AuthSession
    # Password logins: the device cookie that makes this client known next time (`lockout`).
    device_token: str = ""


def _device(client: ClientContext | None) -> str:
    if client is None:
        return ""
    return " ".join(client.user_agent.split())[:200]


def _ip(client: ClientContext | None) -> str | None:
    if client is None:
        return None
    return client.known_ip


def _refresh_lifetime() -> timedelta:
    return timedelta(seconds=settings.JWT_REFRESH_TOKEN_LIFETIME_SECONDS)


def _pair(*, user: User, session: AuthSession, refresh_token: str) -> TokenPair:
    return TokenPair(
        access_token=access_token_issue(user=user, session=session),
        refresh_token=refresh_token,
        expires_in=settings.JWT_ACCESS_TOKEN_LIFETIME_SECONDS,
        refresh_expires_in=settings.JWT_REFRESH_TOKEN_LIFETIME_SECONDS,
        user=user,
        session=session,
    )


def session_start(*, user: User, method: str, client: ClientContext | None = None) -> TokenPair:
    """Sign `user` in on a new session; called by every login flow inside its transaction."""
    now = timezone.now()
    with transaction.atomic():
        session = AuthSession.objects.create(
            user=user,
            method=method,
            device=_device(client),
            ip_address=_ip(client),
            last_used_at=now,
            expires_at=now + _refresh_lifetime(),
        )
        token, token_hash = refresh_token_new()
        RefreshToken.objects.create(
            session=session, token_hash=token_hash, expires_at=session.expires_at
        )
        User.objects.filter(pk=user.pk).update(last_login=now)
        audit_record(
            action="auth.login.succeeded",
            actor=user,
            target=user,
            changes={"method": method, "session_id": str(session.pk)},
            client=client,
        )
        analytics_capture(
            distinct_id=user.pk, event=AnalyticsEvent.USER_LOGGED_IN, properties={"method": method}
        )
    return _pair(user=user, session=session, refresh_token=token)


def _revoke(*, sessions: Any, reason: str) -> int:
    live = sessions.filter(revoked_at__isnull=True)
    for user_id in set(live.values_list("user_id", flat=True)):
        auth_cache_invalidate(user_id)
    return int(
        live.update(revoked_at=timezone.now(), revoked_reason=reason, updated_at=timezone.now())
    )


def session_refresh(*, refresh_token: str, client: ClientContext | None = None) -> TokenPair:
    """Trade a refresh token for a new pair. The old token dies; presenting it again ends
    its whole session (every token of the family), writes an audit entry and alerts the user.

    The token row is locked (`select_for_update`): of two requests racing with the same
    token, the first rotates it and the second finds it used, which is reuse.
    """
    if not refresh_token or len(refresh_token) > 200:
        raise InvalidRefreshTokenError
    now = timezone.now()
    reused: AuthSession | None = None
    with transaction.atomic():
        token = (
            RefreshToken.objects.select_for_update()
            .select_related("session", "session__user")
            .filter(token_hash=refresh_token_hash(refresh_token))
            .first()
        )
        if token is None:
            raise InvalidRefreshTokenError
        session = token.session
        user = session.user
        if token.used_at is not None:
            if session.revoked_at is None:
                _revoke(
                    sessions=AuthSession.objects.filter(pk=session.pk),
                    reason=AuthSession.EndReason.REFRESH_REUSE,
                )
                audit_record(
                    action="auth.refresh.reuse_detected",
                    actor=user,
                    target=session,
                    changes={"token_id": str(token.pk), "rotated_at": token.used_at.isoformat()},
                    client=client,
                )
                notify(
                    user=user,
                    kind="security.alert",
                    critical=True,
                    context={
                        "name": user.name,
                        "event": "A sign-in token was used twice, so that session was ended",
                        "ip_address": _ip(client) or "",
                    },
                )
            reused = session
        elif session.revoked_at is not None or token.expires_at <= now or not user.is_active:
            raise InvalidRefreshTokenError
        else:
            token.used_at = now
            token.save(update_fields=["used_at", "updated_at"])
            new_token, new_hash = refresh_token_new()
            session.expires_at = now + _refresh_lifetime()
            session.last_used_at = now
            session.ip_address = _ip(client) or session.ip_address
            session.save(update_fields=["expires_at", "last_used_at", "ip_address", "updated_at"])
            RefreshToken.objects.create(
                session=session, token_hash=new_hash, expires_at=session.expires_at
            )
    if reused is not None:
        raise RefreshTokenReusedError
    return _pair(user=user, session=session, refresh_token=new_token)


def session_end(
    *, user: User, session_id: uuid.UUID, reason: str, client: ClientContext | None = None
) -> None:
    """End one of `user`'s sessions; another user's session is a 404, like a missing one."""
    with transaction.atomic():
        ended = _revoke(
            sessions=AuthSession.objects.filter(pk=session_id, user=user), reason=reason
        )
        if not ended:
            raise SessionNotFoundError
        audit_record(
            action="auth.session.ended",
            actor=user,
            target_type="accounts.authsession",
            target_id=str(session_id),
            changes={"reason": reason},
            client=client,
        )


def sessions_end_all(
    *,
    user: User,
    reason: str,
    except_session_id: uuid.UUID | None = None,
    actor: Any = None,
    client: ClientContext | None = None,
) -> int:
    """End every session of `user` (but `except_session_id`); returns how many ended."""
    with transaction.atomic():
        sessions = AuthSession.objects.filter(user=user)
        if except_session_id is not None:
            sessions = sessions.exclude(pk=except_session_id)
        ended = _revoke(sessions=sessions, reason=reason)
        audit_record(
            action="auth.sessions.ended_all",
            actor=actor if actor is not None else user,
            target=user,
            changes={"reason": reason, "ended": ended},
            client=client,
        )
    return ended


def sessions_purge_expired(*, older_than_days: int = 30) -> int:
    """Delete sessions (and their tokens) that ended or expired `older_than_days` ago."""
    cutoff = timezone.now() - timedelta(days=older_than_days)
    with transaction.atomic():
        deleted, _detail = AuthSession.objects.filter(expires_at__lt=cutoff).delete()
        revoked, _detail = AuthSession.objects.filter(revoked_at__lt=cutoff).delete()
    return deleted + revoked
