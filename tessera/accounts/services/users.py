"""Users: creation, the profile (Loopin's complete-profile and PATCH /me), deletion."""

from __future__ import annotations

import uuid
from collections.abc import Sequence
from dataclasses import dataclass
from datetime import date, timedelta
from typing import Any

from django.conf import settings
from django.db import transaction
from django.utils import timezone

from tessera.accounts import media
from tessera.accounts.authcache import auth_cache_invalidate
from tessera.accounts.errors import (
    NoPhoneNumberError,
    OtpAttemptsExceededError,
    OtpInvalidError,
    ReauthenticationRequiredError,
    UnknownInterestError,
    WrongPasswordError,
)
from tessera.accounts.locks import advisory_lock
from tessera.accounts.models import AuthSession, EventInterest, User, VerificationCode
from tessera.accounts.services.codes import code_check
from tessera.accounts.services.otp import CodeSent, ip_cap, otp_issue
from tessera.accounts.services.sessions import sessions_end_all
from tessera.audit.services import audit_record
from tessera.core.context import ClientContext
from tessera.core.deletion import deletion_checks_run

UNSET: Any = object()


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


def _interests(ids: Sequence[uuid.UUID]) -> list[EventInterest]:
    unique = list(dict.fromkeys(ids))
    found = {
        interest.pk: interest
        for interest in EventInterest.objects.filter(pk__in=unique, is_active=True)
    }
    missing = [str(pk) for pk in unique if pk not in found]
    if missing:
        raise UnknownInterestError(fields={"eventInterests": ", ".join(missing)})
    return [found[pk] for pk in unique]


@dataclass(frozen=True)
class ProfileChanges:
    """Fields of PATCH /me; `UNSET` leaves a field as it is."""

    name: Any = UNSET
    language: Any = UNSET
    birth_date: Any = UNSET
    gender: Any = UNSET
    bio: Any = UNSET
    location: Any = UNSET
    event_interest_ids: Any = UNSET
    avatar_file_id: Any = UNSET
    profile_picture_ids: Any = UNSET


_PLAIN_FIELDS = ("name", "language", "birth_date", "gender", "bio", "location")


def profile_update(
    *, user: User, changes: ProfileChanges, client: ClientContext | None = None
) -> User:
    """Apply the given profile fields; validates them as the model and Loopin's rules say."""
    with transaction.atomic():
        updated: list[str] = []
        for field in _PLAIN_FIELDS:
            value = getattr(changes, field)
            if value is not UNSET:
                setattr(user, field, value if value is not None else _blank(field))
                updated.append(field)
        if updated:
            user.full_clean(exclude=["password", "email", "phone_number"], validate_unique=False)
            user.save(update_fields=[*updated, "updated_at"])
        if changes.event_interest_ids is not UNSET:
            user.interests.set(_interests(changes.event_interest_ids))
            updated.append("interests")
        if changes.avatar_file_id is not UNSET:
            media.avatar_set(user=user, file_id=changes.avatar_file_id)
            updated.append("avatar")
        if changes.profile_picture_ids is not UNSET:
            media.profile_pictures_set(user=user, file_ids=changes.profile_picture_ids)
            updated.append("profile_pictures")
        if updated:
            # `updated_at` keys the cached profile of GET /me: move it for every change.
            now = timezone.now()
            User.objects.filter(pk=user.pk).update(updated_at=now)
            user.updated_at = now
            auth_cache_invalidate(user.pk)
            audit_record(
                action="account.profile.updated",
                actor=user,
                target=user,
                changes={"fields": updated},
                client=client,
            )
    return user


def _blank(field: str) -> Any:
    return None if field == "birth_date" else ""


def profile_complete(
    *,
    user: User,
    name: str,
    birth_date: date,
    gender: str,
    event_interest_ids: Sequence[uuid.UUID],
    profile_picture_ids: Sequence[uuid.UUID],
    bio: str = "",
    location: str = "",
    client: ClientContext | None = None,
) -> User:
    """Loopin's complete-profile: every required field at once; marks the profile complete."""
    with transaction.atomic():
        profile_update(
            user=user,
            changes=ProfileChanges(
                name=name.strip(),
                birth_date=birth_date,
                gender=gender,
                bio=bio,
                location=location,
                event_interest_ids=event_interest_ids,
                profile_picture_ids=profile_picture_ids,
            ),
            client=client,
        )
        if user.profile_completed_at is None:
            user.profile_completed_at = timezone.now()
            user.save(update_fields=["profile_completed_at", "updated_at"])
    return user


def account_delete_code_send(*, user: User, client: ClientContext | None = None) -> CodeSent:
    """Text a one-time code that confirms DELETE /me to the account's verified number (for
    accounts without a password), within the number's code caps."""
    number = user.phone_number
    if not number or user.phone_verified_at is None:
        raise NoPhoneNumberError
    ip_cap(client)
    with transaction.atomic():
        advisory_lock(f"otp:{number}")
        return otp_issue(
            number=number,
            purpose=VerificationCode.Purpose.ACCOUNT_DELETE,
            user=user,
            deliver=True,
            client=client,
            per_user=True,
        )


def _deletion_confirm(
    *, user: User, password: str | None, otp_code: str | None, client: ClientContext | None
) -> str:
    """How the person proved it is them: "password", "otp" or "recent_sign_in". A stolen
    access token alone is not enough to erase an account."""
    if password is not None:
        user.refresh_from_db(fields=["password"])  # the request's user may be a cached copy
        if not user.has_usable_password() or not user.check_password(password):
            raise WrongPasswordError(fields={"password": str(WrongPasswordError.default_message)})
        return "password"
    if otp_code is not None:
        with transaction.atomic():
            result = code_check(
                purpose=VerificationCode.Purpose.ACCOUNT_DELETE,
                target=user.phone_number or "",
                code=otp_code,
                max_attempts=settings.AUTH_OTP_MAX_ATTEMPTS,
                user=user,
            )
            if not result.accepted:
                audit_record(
                    action="account.delete.refused",
                    actor=user,
                    target=user,
                    changes={"confirmation": "otp", "burned": result.burned},
                    client=client,
                )
        if not result.accepted:
            raise (OtpAttemptsExceededError if result.burned else OtpInvalidError)()
        return "otp"
    fresh_since = timezone.now() - timedelta(seconds=settings.AUTH_REAUTHENTICATION_SECONDS)
    if (
        user.auth_session_id is not None
        and AuthSession.objects.filter(
            pk=user.auth_session_id, user=user, created_at__gte=fresh_since
        ).exists()
    ):
        return "recent_sign_in"
    raise ReauthenticationRequiredError


def account_delete(
    *,
    user: User,
    password: str | None = None,
    otp_code: str | None = None,
    client: ClientContext | None = None,
) -> User:
    """Erase the person and keep the row: money and audit records point at it.

    Confirmed by the password, a code texted by `account_delete_code_send`, or a session
    that signed in less than `AUTH_REAUTHENTICATION_SECONDS` ago (a token refreshed from an
    older sign-in does not count: refreshing proves possession of a token, not of the
    account). Email, phone, name, profile, pictures, interests, linked accounts, codes and
    sessions go; the account is disabled and named "Deleted user". Audit entries stay, with
    the actor still pointing at this (now anonymous) row. Refused first by any app's check
    (tessera.core.deletion: the wallet's, while it holds money or a payout is on its way).
    """
    # What other apps need settled first (money in a wallet) refuses before the proof is
    # spent (a texted code is used once).
    deletion_checks_run(user=user)
    confirmation = _deletion_confirm(user=user, password=password, otp_code=otp_code, client=client)
    with transaction.atomic():
        user = User.objects.select_for_update().get(pk=user.pk)
        sessions_end_all(user=user, reason=AuthSession.EndReason.ACCOUNT_DELETED, client=client)
        media.account_media_erase(user=user)
        user.social_accounts.all().delete()
        VerificationCode.objects.filter(user=user).delete()
        user.interests.clear()
        user.email = None
        user.phone_number = None
        user.name = "Deleted user"
        user.birth_date = None
        user.gender = ""
        user.bio = ""
        user.location = ""
        user.email_verified_at = None
        user.phone_verified_at = None
        user.is_active = False
        user.is_staff = False
        user.is_superuser = False
        user.deleted_at = timezone.now()
        user.set_unusable_password()
        user.save()
        user.groups.clear()
        user.user_permissions.clear()
        audit_record(
            action="account.deleted",
            actor=user,
            target=user,
            changes={"confirmation": confirmation},
            client=client,
        )
    return user


def user_deactivate(*, user: User, actor: Any, client: ClientContext | None = None) -> User:
    """The admin's action: disable the account and end its sessions."""
    with transaction.atomic():
        User.objects.filter(pk=user.pk).update(is_active=False, updated_at=timezone.now())
        user.is_active = False
        auth_cache_invalidate(user.pk)
        sessions_end_all(user=user, reason=AuthSession.EndReason.ADMIN, actor=actor, client=client)
        audit_record(action="account.deactivated", actor=actor, target=user, client=client)
    return user
