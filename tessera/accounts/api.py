"""/api/auth/: phone codes, email and password, GitHub and Google, tokens, sessions, profile.

Thin: parse, authorise, call one service or selector, shape the reply.
"""

# No `from __future__ import annotations`: Ninja builds the Query and Union parameter
# models from the evaluated annotations.
from typing import Any
from uuid import UUID

from django.conf import settings
from django.http import HttpRequest
from django.utils.translation import gettext as _
from ninja import Query
from ninja.responses import Status
from ninja.throttling import BaseThrottle

from tessera.accounts import selectors, services, tasks
from tessera.accounts.models import AuthSession, User
from tessera.accounts.schemas import (
    AuthorizationOut,
    ChangePasswordIn,
    CodeSentOut,
    CompleteProfileIn,
    DetailOut,
    EmailIn,
    EmailVerifiedOut,
    EventInterestOut,
    ExportStartedOut,
    LogoutAllOut,
    PasswordLoginIn,
    PhoneIn,
    ProfilePatchIn,
    ProviderName,
    RefreshIn,
    RegisterIn,
    ResetPasswordIn,
    SessionOut,
    SocialCallbackIn,
    SocialStartQuery,
    SocialTokenIn,
    TokenPairOut,
    UserOut,
    VerifyEmailIn,
    VerifyOtpIn,
)
from tessera.core.api import ApiRouter
from tessera.core.auth import bearer_auth, require_user, user_role
from tessera.core.ratelimit import RateLimit
from tessera.tasks.services import task_start

router = ApiRouter()

Purpose = services.otp.Purpose

LOGIN_LIMIT: list[BaseThrottle] = [RateLimit(settings.AUTH_LOGIN_RATE, key="ip")]
REGISTER_LIMIT: list[BaseThrottle] = [RateLimit(settings.AUTH_REGISTER_RATE, key="ip")]
VERIFY_LIMIT: list[BaseThrottle] = [RateLimit(settings.AUTH_OTP_VERIFY_IP_RATE, key="ip")]
RESET_LIMIT: list[BaseThrottle] = [RateLimit(settings.AUTH_PASSWORD_RESET_RATE, key="ip")]


def _per_user(rate: str) -> list[BaseThrottle]:
    return [RateLimit(rate, key="user")]


def user_out(user: User, request: HttpRequest | None = None) -> UserOut:
    extras = selectors.user_profile_extras(user=user, request=request)
    return UserOut(
        id=user.pk,
        email=user.email,
        email_verified=user.email_verified_at is not None,
        phone_number=user.phone_number,
        phone_verified=user.phone_verified_at is not None,
        name=user.name,
        language=user.language,
        role=user_role(user).value,
        birth_date=user.birth_date,
        gender=user.gender or None,
        bio=user.bio,
        location=user.location,
        event_interests=extras["eventInterests"],
        avatar=extras["avatar"],
        profile_pictures=extras["profilePictures"],
        needs_profile_completion=user.needs_profile_completion,
        has_password=user.has_usable_password(),
        date_joined=user.date_joined,
    )


def _pair_out(request: HttpRequest, pair: services.TokenPair) -> TokenPairOut:
    return TokenPairOut(
        access_token=pair.access_token,
        refresh_token=pair.refresh_token,
        expires_in=pair.expires_in,
        refresh_expires_in=pair.refresh_expires_in,
        session_id=pair.session.pk,
        needs_profile_completion=pair.user.needs_profile_completion,
        user=user_out(pair.user, request),
    )


def _code_sent(sent: services.CodeSent) -> CodeSentOut:
    return CodeSentOut(
        detail=_("If the number can receive it, a code is on its way by SMS."),
        phone_number=sent.phone_number,
        expires_in=sent.expires_in,
        resend_in=sent.resend_in,
        code_length=sent.code_length,
    )


# --- Phone (Loopin) -----------------------------------------------------------------------


@router.post("/signup", response=CodeSentOut, summary="Send a sign-up code to a phone number")
def signup(request: HttpRequest, payload: PhoneIn) -> CodeSentOut:
    return _code_sent(
        services.otp_send(
            phone_number=payload.phone_number, purpose=Purpose.PHONE_SIGNUP, request=request
        )
    )


@router.post(
    "/verify-otp",
    response=TokenPairOut,
    throttle=VERIFY_LIMIT,
    summary="Trade a sign-up code for tokens (creates the account on first use)",
)
def verify_otp(request: HttpRequest, payload: VerifyOtpIn) -> TokenPairOut:
    return _pair_out(
        request,
        services.otp_verify(
            phone_number=payload.phone_number,
            otp_code=payload.otp_code,
            purpose=Purpose.PHONE_SIGNUP,
            request=request,
        ),
    )


@router.post(
    "/login",
    response=TokenPairOut | CodeSentOut,
    throttle=LOGIN_LIMIT,
    summary="Log in: email and password (tokens), or a phone number alone (an SMS code)",
    description=(
        "Two bodies share this path. `{email, password}` logs in and returns the token pair; "
        "five failures lock the account and the address out for 15 minutes. "
        "`{phoneNumber}` alone sends a login code by SMS (then `POST /api/auth/verify-login`)."
    ),
)
def login(request: HttpRequest, payload: PasswordLoginIn | PhoneIn) -> Any:
    if isinstance(payload, PhoneIn):
        return _code_sent(
            services.otp_send(
                phone_number=payload.phone_number, purpose=Purpose.PHONE_LOGIN, request=request
            )
        )
    return _pair_out(
        request,
        services.login_password(email=payload.email, password=payload.password, request=request),
    )


@router.post(
    "/verify-login",
    response=TokenPairOut,
    throttle=VERIFY_LIMIT,
    summary="Trade a phone login code for tokens",
)
def verify_login(request: HttpRequest, payload: VerifyOtpIn) -> TokenPairOut:
    return _pair_out(
        request,
        services.otp_verify(
            phone_number=payload.phone_number,
            otp_code=payload.otp_code,
            purpose=Purpose.PHONE_LOGIN,
            request=request,
        ),
    )


# --- Email and password -------------------------------------------------------------------


@router.post(
    "/register",
    response={202: DetailOut},
    throttle=REGISTER_LIMIT,
    summary="Create an account with email and password (a verification code is emailed)",
)
def register(request: HttpRequest, payload: RegisterIn) -> Status[DetailOut]:
    services.account_register(
        email=payload.email, password=payload.password, name=payload.name, request=request
    )
    return Status(
        202,
        DetailOut(detail=_("Check your inbox: we sent a code to verify the address. Then log in.")),
    )


@router.post("/verify-email", response=EmailVerifiedOut, throttle=VERIFY_LIMIT)
def verify_email(request: HttpRequest, payload: VerifyEmailIn) -> EmailVerifiedOut:
    """Verify an email address with the single-use code (or link) that was emailed."""
    user = services.email_verify(email=payload.email, code=payload.code, request=request)
    return EmailVerifiedOut(email=user.email or "", email_verified=True)


@router.post(
    "/verify-email/resend",
    response={202: DetailOut},
    auth=bearer_auth,
    throttle=_per_user("3/hour"),
    summary="Email a new verification code to your address",
)
def verify_email_resend(request: HttpRequest) -> Status[DetailOut]:
    services.email_verification_resend(user=require_user(request), request=request)
    return Status(
        202, DetailOut(detail=_("If your address still needs verifying, a code is on its way."))
    )


@router.post(
    "/password/forgot",
    response={202: DetailOut},
    throttle=RESET_LIMIT,
    summary="Email a password reset link (valid one hour, single use)",
)
def password_forgot(request: HttpRequest, payload: EmailIn) -> Status[DetailOut]:
    services.password_reset_request(email=payload.email, request=request)
    return Status(
        202, DetailOut(detail=_("If an account has this address, a reset link is on its way."))
    )


@router.post(
    "/password/reset",
    response=DetailOut,
    throttle=RESET_LIMIT,
    summary="Set a new password with a reset token; ends every session",
)
def password_reset(request: HttpRequest, payload: ResetPasswordIn) -> DetailOut:
    services.password_reset_confirm(
        token=payload.token, new_password=payload.new_password, request=request
    )
    return DetailOut(detail=_("Your password was reset. Log in with the new one."))


@router.post(
    "/password/change",
    response=DetailOut,
    auth=bearer_auth,
    summary="Change your password; ends every other session",
)
def password_change(request: HttpRequest, payload: ChangePasswordIn) -> DetailOut:
    services.password_change(
        user=require_user(request),
        current_password=payload.current_password,
        new_password=payload.new_password,
        request=request,
    )
    return DetailOut(detail=_("Your password was changed. Your other sessions were ended."))


# --- GitHub and Google --------------------------------------------------------------------


@router.get(
    "/oauth/{provider}/authorize",
    response=AuthorizationOut,
    summary="Start the web sign-in with GitHub or Google: where to send the browser",
)
def social_authorize(
    request: HttpRequest, provider: ProviderName, query: Query[SocialStartQuery]
) -> AuthorizationOut:
    start = services.social_authorization_start(provider=provider, redirect_uri=query.redirect_uri)
    return AuthorizationOut(authorization_url=start.authorization_url, state=start.state)


@router.post(
    "/oauth/{provider}/callback",
    response=TokenPairOut,
    throttle=LOGIN_LIMIT,
    summary="Finish the web sign-in: the `code` and `state` the provider sent back",
)
def social_callback(
    request: HttpRequest, provider: ProviderName, payload: SocialCallbackIn
) -> TokenPairOut:
    return _pair_out(
        request,
        services.social_login_with_code(
            provider=provider, code=payload.code, state=payload.state, request=request
        ),
    )


@router.post(
    "/oauth/{provider}/token",
    response=TokenPairOut,
    throttle=LOGIN_LIMIT,
    summary="Mobile sign-in: the app posts the provider's token (GitHub access, Google ID)",
)
def social_token(
    request: HttpRequest, provider: ProviderName, payload: SocialTokenIn
) -> TokenPairOut:
    return _pair_out(
        request,
        services.social_login_with_token(
            provider=provider,
            access_token=payload.access_token,
            id_token=payload.id_token,
            request=request,
        ),
    )


# --- Tokens and sessions ------------------------------------------------------------------


@router.post("/refresh", response=TokenPairOut, summary="Rotate the refresh token for a new pair")
def refresh(request: HttpRequest, payload: RefreshIn) -> TokenPairOut:
    return _pair_out(
        request, services.session_refresh(refresh_token=payload.refresh_token, request=request)
    )


@router.post("/logout", response={204: None}, auth=bearer_auth, summary="End this session")
def logout(request: HttpRequest) -> Status[None]:
    user = require_user(request)
    if user.auth_session_id is not None:
        services.session_end(
            user=user,
            session_id=user.auth_session_id,
            reason=AuthSession.EndReason.LOGOUT,
            request=request,
        )
    return Status(204, None)


@router.post("/logout-all", response=LogoutAllOut, auth=bearer_auth, summary="End every session")
def logout_all(request: HttpRequest) -> LogoutAllOut:
    ended = services.sessions_end_all(
        user=require_user(request), reason=AuthSession.EndReason.LOGOUT_ALL, request=request
    )
    return LogoutAllOut(ended=ended)


@router.get(
    "/sessions",
    response=list[SessionOut],
    auth=bearer_auth,
    summary="Your active sessions (device, address, last use), most recent first",
)
def session_list(request: HttpRequest) -> list[SessionOut]:
    user = require_user(request)
    return [
        SessionOut(
            id=session.pk,
            method=session.method,
            device=session.device,
            ip_address=session.ip_address,
            created_at=session.created_at,
            last_used_at=session.last_used_at,
            current=session.pk == user.auth_session_id,
        )
        for session in selectors.session_list_active(user=user)[:100]
    ]


@router.delete(
    "/sessions/{session_id}", response={204: None}, auth=bearer_auth, summary="End one session"
)
def session_delete(request: HttpRequest, session_id: UUID) -> Status[None]:
    services.session_end(
        user=require_user(request),
        session_id=session_id,
        reason=AuthSession.EndReason.ENDED_BY_USER,
        request=request,
    )
    return Status(204, None)


# --- Profile and account ------------------------------------------------------------------


@router.get("/me", response=UserOut, auth=bearer_auth, summary="Your account and profile")
def me(request: HttpRequest) -> UserOut:
    return user_out(require_user(request), request)


@router.patch("/me", response=UserOut, auth=bearer_auth, summary="Change your profile")
def me_update(request: HttpRequest, payload: ProfilePatchIn) -> UserOut:
    sent = payload.model_fields_set
    values = {
        "name": payload.name.strip() if payload.name is not None else None,
        "language": payload.language,
        "birth_date": payload.birth_date,
        "gender": payload.gender,
        "bio": payload.bio,
        "location": payload.location,
        "event_interest_ids": payload.event_interests or [],
        "avatar_file_id": payload.avatar_file_id,
        "profile_picture_ids": payload.profile_pictures or [],
    }
    field_for = {"event_interest_ids": "event_interests", "profile_picture_ids": "profile_pictures"}
    changes = services.ProfileChanges(
        **{key: value for key, value in values.items() if field_for.get(key, key) in sent}
    )
    user = services.profile_update(user=require_user(request), changes=changes, request=request)
    return user_out(user, request)


@router.post(
    "/complete-profile",
    response=UserOut,
    auth=bearer_auth,
    summary="Complete your profile after phone sign-up (Loopin)",
)
def complete_profile(request: HttpRequest, payload: CompleteProfileIn) -> UserOut:
    user = services.profile_complete(
        user=require_user(request),
        name=payload.name,
        birth_date=payload.birth_date,
        gender=payload.gender,
        event_interest_ids=payload.event_interests,
        profile_picture_ids=payload.profile_pictures,
        bio=payload.bio,
        location=payload.location,
        request=request,
    )
    return user_out(user, request)


@router.get(
    "/event-interests",
    response=list[EventInterestOut],
    summary="The event interests a profile may pick (1 to 5)",
)
def event_interests(request: HttpRequest) -> list[EventInterestOut]:
    return [
        EventInterestOut(
            id=interest.pk, slug=interest.slug, name=interest.name, name_ar=interest.name_ar
        )
        for interest in selectors.event_interest_list()
    ]


@router.post(
    "/me/export",
    response={202: ExportStartedOut},
    auth=bearer_auth,
    throttle=_per_user("3/hour"),
    summary="Export all your data as JSON (poll the task; its result is the export)",
)
def me_export(request: HttpRequest) -> Status[ExportStartedOut]:
    user = require_user(request)
    record = task_start(task=tasks.account_export, owner_id=user.pk, user_id=str(user.pk))
    return Status(202, ExportStartedOut(task_id=record.pk, status_url=f"/api/tasks/{record.pk}"))


@router.delete(
    "/me",
    response={204: None},
    auth=bearer_auth,
    summary="Delete your account: personal data erased, money and audit records kept",
)
def me_delete(request: HttpRequest) -> Status[None]:
    services.account_delete(user=require_user(request), request=request)
    return Status(204, None)
