"""Email and password: register, log in (with lock-out), verify the email, reset and change.

Replies never reveal whether an email has an account: registering a taken address answers
like a new one (and emails its owner instead), and a failed login costs one password hash
whether or not the account exists.
"""

from __future__ import annotations

import secrets
from dataclasses import dataclass, replace
from typing import Any

from django.conf import settings
from django.contrib.auth.hashers import make_password
from django.contrib.auth.password_validation import validate_password
from django.core.exceptions import ValidationError
from django.core.validators import validate_email
from django.db import IntegrityError, transaction
from django.utils import timezone, translation
from django.utils.translation import gettext

from tessera.accounts.errors import (
    AccountLockedError,
    InvalidCredentialsError,
    InvalidEmailError,
    InvalidResetTokenError,
    InvalidVerificationCodeError,
    LoginThrottledError,
    WeakPasswordError,
    WrongPasswordError,
)
from tessera.accounts.models import AuthSession, User, VerificationCode
from tessera.accounts.phone import email_mask
from tessera.accounts.services import lockout
from tessera.accounts.services.codes import (
    code_check,
    code_generate,
    code_hash,
    code_issue,
    token_hash,
)
from tessera.accounts.services.sessions import TokenPair, _ip, session_start, sessions_end_all
from tessera.audit.services import audit_record
from tessera.core.analytics import AnalyticsEvent, analytics_capture
from tessera.core.context import ClientContext
from tessera.core.jobs import enqueue_on_commit
from tessera.core.links import site_base_url, site_url
from tessera.notifications.selectors import template_render
from tessera.notifications.services import notify, send_email

Purpose = VerificationCode.Purpose
EMAIL_CODE_LENGTH = 6


def email_normalize(raw: str, *, field: str = "email") -> str:
    email = (raw or "").strip()
    try:
        validate_email(email)
    except ValidationError:
        raise InvalidEmailError(field=field) from None
    local, _sep, domain = email.rpartition("@")
    return f"{local}@{domain.lower()}"


def password_validate(*, password: str, user: User | None = None, field: str = "password") -> None:
    try:
        validate_password(password, user=user)
    except ValidationError as exc:
        raise WeakPasswordError(fields={field: " ".join(exc.messages)}) from None


def _link_language(user: User) -> str | None:
    """The `lang` a link to one of the site's pages carries: none for the default."""
    return user.language if user.language != settings.LANGUAGE_CODE else None


def _send_template_email(*, to: str, key: str, language: str, context: dict[str, Any]) -> None:
    message = template_render(key=key, channel="email", language=language, context=context)
    send_email(
        to=to, subject=message.subject, body=message.body, kind=key, language=message.language
    )


def _email_verification_send(*, user: User, client: ClientContext | None) -> None:
    assert user.email is not None  # noqa: S101 - callers only pass users with an email
    code = code_generate(EMAIL_CODE_LENGTH)
    target = user.email.lower()
    code_issue(
        purpose=Purpose.EMAIL_VERIFY,
        target=target,
        user=user,
        ttl_seconds=settings.AUTH_EMAIL_VERIFICATION_TTL_SECONDS,
        code=code,
        hashed=code_hash(purpose=Purpose.EMAIL_VERIFY, target=target, code=code),
        ip_address=_ip(client),
    )
    link = site_url(
        "/verify-email", {"email": user.email, "code": code, "lang": _link_language(user)}
    )
    _send_template_email(
        to=user.email,
        key="auth.email_verification",
        language=user.language,
        context={"name": user.name, "code": code, "link": link},
    )


@dataclass(frozen=True)
class Registered:
    email: str


def account_register(
    *, email: str, password: str, name: str, client: ClientContext | None = None
) -> Registered:
    """Create an account with a password and send a verification code to its email.

    A taken email gets the same reply, the same password hash cost, and an email telling
    its owner that someone tried to register with it.
    """
    normalized = email_normalize(email)
    language = translation.get_language() or settings.LANGUAGE_CODE
    password_validate(password=password, user=User(email=normalized, name=name))
    existing = User.objects.filter(email__iexact=normalized).first()
    if existing is None:
        try:
            with transaction.atomic():
                user = User.objects.create_user(
                    email=normalized, password=password, name=name.strip(), language=language
                )
                _email_verification_send(user=user, client=client)
                audit_record(action="auth.registered", actor=user, target=user, client=client)
                analytics_capture(
                    distinct_id=user.pk,
                    event=AnalyticsEvent.USER_SIGNED_UP,
                    properties={"method": "email"},
                )
            return Registered(email=normalized)
        except (IntegrityError, ValidationError):
            existing = User.objects.filter(email__iexact=normalized).first()
            if existing is None:
                raise
    make_password(password)  # the same hashing cost as a real registration
    with transaction.atomic():
        _send_template_email(
            to=existing.email or normalized,
            key="auth.register_existing",
            language=existing.language,
            context={
                "name": existing.name,
                "link": site_url("/reset-password", {"lang": _link_language(existing)}),
            },
        )
        audit_record(
            action="auth.register.duplicate",
            actor=None,
            target=existing,
            changes={"email": email_mask(normalized)},
            client=client,
        )
    return Registered(email=normalized)


def login_password(
    *,
    email: str,
    password: str,
    client: ClientContext | None = None,
    device_token: str | None = None,
) -> TokenPair:
    """Log in with email and password. Failures lock the (account, address) pair and slow
    the account down for unknown clients (`lockout`); `device_token` is the device cookie
    of an earlier login, and the pair returned carries the new one to set."""
    normalized = email.strip().lower()
    ip = _ip(client) or "unknown"
    state = lockout.lockout_check(email=normalized, ip=ip, device_token=device_token)
    if state.locked:
        raise AccountLockedError(retry_after=state.retry_after)
    if state.throttled:
        raise LoginThrottledError(retry_after=state.retry_after)
    user = User.objects.filter(email__iexact=normalized).first()
    if user is None or not user.is_active:
        make_password(password)  # as slow as checking a real password
        ok = False
    else:
        ok = user.check_password(password)  # upgrades an outdated hash on success
    if not ok:
        outcome = lockout.lockout_record_failure(email=normalized, ip=ip)
        audit_record(
            action="auth.login.failed",
            actor=user,
            target=user,
            target_type="" if user else "email",
            target_id="" if user else email_mask(normalized),
            changes={"method": "password", "email": email_mask(normalized)},
            client=client,
        )
        for happened, action, detail in (
            (outcome.locked, "auth.lockout", {"seconds": settings.AUTH_LOCKOUT_SECONDS}),
            (
                outcome.delay_started,
                "auth.login.slowed",
                {"failures": settings.AUTH_LOGIN_DELAY_AFTER_FAILURES},
            ),
        ):
            if happened:
                audit_record(
                    action=action,
                    actor=user,
                    target=user,
                    target_type="" if user else "email",
                    target_id="" if user else email_mask(normalized),
                    changes={"email": email_mask(normalized), "ip": ip, **detail},
                    client=client,
                )
        raise InvalidCredentialsError
    assert user is not None  # noqa: S101 - ok implies a user
    lockout.lockout_clear_account(email=normalized, ip=ip)
    pair = session_start(user=user, method="password", client=client)
    return replace(
        pair, device_token=lockout.device_token_issue(email=normalized, previous=device_token)
    )


def email_verification_resend(*, user: User, client: ClientContext | None = None) -> bool:
    """Send a new verification code; False when there is nothing to verify."""
    if not user.email or user.email_verified_at is not None:
        return False
    with transaction.atomic():
        _email_verification_send(user=user, client=client)
    return True


def email_verify(*, email: str, code: str, client: ClientContext | None = None) -> User:
    """Mark the email verified with its single-use code (from the email or its link)."""
    target = email.strip().lower()
    verified: User | None = None
    with transaction.atomic():
        result = code_check(
            purpose=Purpose.EMAIL_VERIFY,
            target=target,
            code=code,
            max_attempts=settings.AUTH_OTP_MAX_ATTEMPTS,
        )
        record = result.record
        if result.accepted and record is not None and record.user is not None:
            user = record.user
            if (user.email or "").lower() == target:
                user.email_verified_at = timezone.now()
                user.save(update_fields=["email_verified_at", "updated_at"])
                audit_record(action="auth.email.verified", actor=user, target=user, client=client)
                verified = user
    if verified is None:
        raise InvalidVerificationCodeError
    return verified


def password_reset_request(*, email: str, client: ClientContext | None = None) -> None:
    """Ask for a reset link for `email`. The request does the same work whether or not an
    account has the address (it queues `password_reset_send` after commit, which decides), so
    neither the reply nor its timing says whether the address exists."""
    from tessera.accounts.tasks import password_reset_send as send_task

    enqueue_on_commit(
        send_task,
        email=email.strip().lower(),
        ip_address=_ip(client),
        user_agent=(client.user_agent if client is not None else "")[:500],
        request_id=client.request_id if client is not None else "",
        # Links are built in the worker, which has no request: hand it the base this one has.
        link_base=site_base_url(),
    )


def password_reset_send(
    *,
    email: str,
    ip_address: str | None = None,
    user_agent: str = "",
    request_id: str = "",
    link_base: str = "",
) -> bool:
    """Email a single-use reset link valid `AUTH_PASSWORD_RESET_TTL_SECONDS` if an active
    account has `email` (the background half of `password_reset_request`); False if none."""
    user = User.objects.filter(email__iexact=email, is_active=True).first()
    if user is None or not user.email:
        return False
    token = secrets.token_urlsafe(32)
    with transaction.atomic():
        code_issue(
            purpose=Purpose.PASSWORD_RESET,
            target=user.email.lower(),
            user=user,
            ttl_seconds=settings.AUTH_PASSWORD_RESET_TTL_SECONDS,
            code=token,
            hashed=token_hash(token),
            ip_address=ip_address,
        )
        _send_template_email(
            to=user.email,
            key="auth.password_reset",
            language=user.language,
            context={
                "name": user.name,
                "token": token,
                "link": site_url(
                    "/reset-password",
                    {"token": token, "lang": _link_language(user)},
                    base=link_base or None,
                ),
                "minutes": settings.AUTH_PASSWORD_RESET_TTL_SECONDS // 60,
            },
        )
        audit_record(
            action="auth.password.reset_requested",
            actor=user,
            target=user,
            ip_address=ip_address,
            user_agent=user_agent,
            request_id=request_id,
        )
    return True


def password_reset_confirm(
    *, token: str, new_password: str, client: ClientContext | None = None
) -> User:
    """Set a new password with a reset token (once), ending every session of the account."""
    if not token or len(token) > 200:
        raise InvalidResetTokenError
    now = timezone.now()
    with transaction.atomic():
        record = (
            VerificationCode.objects.select_for_update(of=("self",))
            .select_related("user")
            .filter(
                purpose=Purpose.PASSWORD_RESET,
                code_hash=token_hash(token),
                state=VerificationCode.State.ACTIVE,
                expires_at__gt=now,
            )
            .first()
        )
        if record is None or record.user is None or not record.user.is_active:
            raise InvalidResetTokenError
        user = record.user
        password_validate(password=new_password, user=user, field="newPassword")
        record.state = VerificationCode.State.USED
        record.used_at = now
        record.save(update_fields=["state", "used_at", "updated_at"])
        user.set_password(new_password)
        user.save(update_fields=["password", "updated_at"])
        sessions_end_all(user=user, reason=AuthSession.EndReason.PASSWORD_CHANGED, client=client)
        audit_record(action="auth.password.reset", actor=user, target=user, client=client)
        _alert(user=user, event=gettext("Your password was reset"), client=client)
    lockout.lockout_clear_account(email=user.email or "")
    return user


def password_change(
    *,
    user: User,
    current_password: str,
    new_password: str,
    client: ClientContext | None = None,
) -> User:
    """Change the password (the current one is required when there is one) and end every
    other session."""
    user.refresh_from_db(fields=["password"])  # the request's user may be a cached copy
    if user.has_usable_password() and not user.check_password(current_password):
        raise WrongPasswordError(
            fields={"currentPassword": str(WrongPasswordError.default_message)}
        )
    password_validate(password=new_password, user=user, field="newPassword")
    with transaction.atomic():
        user.set_password(new_password)
        user.save(update_fields=["password", "updated_at"])
        sessions_end_all(
            user=user,
            reason=AuthSession.EndReason.PASSWORD_CHANGED,
            except_session_id=user.auth_session_id,
            client=client,
        )
        audit_record(action="auth.password.changed", actor=user, target=user, client=client)
        _alert(user=user, event=gettext("Your password was changed"), client=client)
    return user


def _alert(*, user: User, event: str, client: ClientContext | None) -> None:
    notify(
        user=user,
        kind="security.alert",
        critical=True,
        channels=["in_app", "email"],
        context={"name": user.name, "event": event, "ip_address": _ip(client) or ""},
    )
