"""Email and password: register, verify the address, forgot, reset and change the password."""

from django.http import HttpRequest
from django.utils.translation import gettext as _
from ninja.responses import Status

from tessera.accounts import services
from tessera.accounts.api.routing import (
    REGISTER_LIMIT,
    RESET_LIMIT,
    VERIFY_LIMIT,
    AuthRouter,
    per_user,
)
from tessera.accounts.schemas import (
    ChangePasswordIn,
    DetailOut,
    EmailIn,
    EmailVerifiedOut,
    RegisterIn,
    ResetPasswordIn,
    VerifyEmailIn,
)
from tessera.core.auth import bearer_auth, require_user
from tessera.core.context import client_context

router = AuthRouter()


@router.post(
    "/register",
    response={202: DetailOut},
    throttle=REGISTER_LIMIT,
    summary="Create an account with email and password (a verification code is emailed)",
)
def register(request: HttpRequest, payload: RegisterIn) -> Status[DetailOut]:
    services.account_register(
        email=payload.email,
        password=payload.password,
        name=payload.name,
        client=client_context(request),
    )
    return Status(
        202,
        DetailOut(detail=_("Check your inbox: we sent a code to verify the address. Then log in.")),
    )


@router.post("/verify-email", response=EmailVerifiedOut, throttle=VERIFY_LIMIT)
def verify_email(request: HttpRequest, payload: VerifyEmailIn) -> EmailVerifiedOut:
    """Verify an email address with the single-use code (or link) that was emailed."""
    user = services.email_verify(
        email=payload.email, code=payload.code, client=client_context(request)
    )
    return EmailVerifiedOut(email=user.email or "", email_verified=True)


@router.post(
    "/verify-email/resend",
    response={202: DetailOut},
    auth=bearer_auth,
    throttle=per_user("3/hour"),
    summary="Email a new verification code to your address",
)
def verify_email_resend(request: HttpRequest) -> Status[DetailOut]:
    services.email_verification_resend(user=require_user(request), client=client_context(request))
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
    services.password_reset_request(email=payload.email, client=client_context(request))
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
        token=payload.token, new_password=payload.new_password, client=client_context(request)
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
        client=client_context(request),
    )
    return DetailOut(detail=_("Your password was changed. Your other sessions were ended."))
