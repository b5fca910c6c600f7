"""Reads on accounts, for the API and for other apps."""

from __future__ import annotations

import uuid
from typing import Any

from django.db.models import QuerySet
from django.utils import timezone

from tessera.accounts import media
from tessera.accounts.authcache import auth_cache_set_me
from tessera.accounts.models import AuthSession, EventInterest, User
from tessera.core.auth import user_role
from tessera.core.context import ClientContext
from tessera.core.exports import export_sections


def user_get(*, user_id: uuid.UUID | str) -> User | None:
    """An active user by id (for other apps that hold an id)."""
    return User.objects.filter(pk=user_id, is_active=True).first()


def user_get_any(*, user_id: uuid.UUID | str) -> User | None:
    """A user by id, active or not."""
    return User.objects.filter(pk=user_id).first()


def user_get_by_email(*, email: str) -> User | None:
    return User.objects.filter(email__iexact=email.strip(), is_active=True).first()


def user_get_by_verified_phone(*, phone_number: str) -> User | None:
    """The active account whose number was confirmed by a code (an unverified number proves
    nothing about who holds it)."""
    return User.objects.filter(
        phone_number=phone_number, phone_verified_at__isnull=False, is_active=True
    ).first()


def event_interest_list() -> QuerySet[EventInterest]:
    return EventInterest.objects.filter(is_active=True).order_by("position", "name")


def user_interests(*, user: User) -> list[EventInterest]:
    return list(user.interests.order_by("position", "name"))


def user_profile_extras(*, user: User, client: ClientContext | None = None) -> dict[str, Any]:
    """The user's interests, avatar and pictures, JSON-ready (camelCase), for the user
    replies (GET /me keeps its whole reply in the cache: `me_reply_cached`)."""
    user_media = media.user_media(user=user, client=client)
    return {
        "eventInterests": [
            {
                "id": str(interest.pk),
                "slug": interest.slug,
                "name": interest.name,
                "nameAr": interest.name_ar,
            }
            for interest in user_interests(user=user)
        ],
        "avatar": (
            user_media.avatar.model_dump(mode="json", by_alias=True) if user_media.avatar else None
        ),
        "profilePictures": [
            picture.model_dump(mode="json", by_alias=True)
            for picture in user_media.profile_pictures
        ],
    }


def me_reply_cached(*, user: User, host: str) -> bytes | None:
    """The JSON of the user's GET /me reply, if the authentication cache held it for this
    user's current generation and this host (read with the session, `authcache`)."""
    snapshot = user.auth_cached_me
    if snapshot is None or snapshot.get("host") != host:
        return None
    body = snapshot.get("body")
    return body if isinstance(body, bytes) else None


def me_reply_keep(*, user: User, host: str, body: bytes, files: list[Any]) -> None:
    """Keep the reply until anything about the user changes, unless one of its `files`
    has a link that expires (a private file) or none yet (still processing)."""
    if all(file.url is not None and file.url_expires_at is None for file in files):
        auth_cache_set_me(user_id=user.pk, generation=user.auth_generation, host=host, body=body)


def session_list_active(*, user: User) -> QuerySet[AuthSession]:
    return AuthSession.objects.filter(
        user=user, revoked_at__isnull=True, expires_at__gt=timezone.now()
    ).order_by("-last_used_at", "-pk")


def account_export_data(*, user: User) -> dict[str, Any]:
    """Everything Tessera holds about `user`, as JSON-ready data: the accounts module's own
    sections, then one per app registered in `tessera.core.exports` (capsules, files,
    notifications, audit, and the apps that add theirs)."""
    user = User.objects.get(pk=user.pk)
    return {
        **_account_sections(user),
        **export_sections(user=user),
    }


def _account_sections(user: User) -> dict[str, Any]:
    return {
        "exportedAt": timezone.now().isoformat(),
        "account": {
            "id": str(user.pk),
            "email": user.email,
            "emailVerifiedAt": _iso(user.email_verified_at),
            "phoneNumber": user.phone_number,
            "phoneVerifiedAt": _iso(user.phone_verified_at),
            "name": user.name,
            "language": user.language,
            "role": user_role(user),
            "dateJoined": _iso(user.date_joined),
            "lastLogin": _iso(user.last_login),
        },
        "profile": {
            "birthDate": user.birth_date.isoformat() if user.birth_date else None,
            "gender": user.gender or None,
            "bio": user.bio,
            "location": user.location,
            "eventInterests": [interest.slug for interest in user_interests(user=user)],
            "profileCompletedAt": _iso(user.profile_completed_at),
            **media.export_media(user=user),
        },
        "linkedAccounts": [
            {
                "provider": account.provider,
                "email": account.email,
                "linkedAt": _iso(account.created_at),
                "lastLoginAt": _iso(account.last_login_at),
            }
            for account in user.social_accounts.order_by("created_at")
        ],
        "sessions": [
            {
                "id": str(session.pk),
                "method": session.method,
                "device": session.device,
                "ipAddress": session.ip_address,
                "createdAt": _iso(session.created_at),
                "lastUsedAt": _iso(session.last_used_at),
                "endedAt": _iso(session.revoked_at),
                "endReason": session.revoked_reason or None,
            }
            for session in user.auth_sessions.order_by("-created_at")
        ],
    }


def _iso(value: Any) -> str | None:
    return value.isoformat() if value is not None else None
