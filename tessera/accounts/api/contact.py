"""Changing your email address or phone number: ask (a code goes to the new one), then
confirm with the code. Nothing changes before the confirmation."""

from django.http import HttpRequest
from django.utils.translation import gettext as _
from ninja.responses import Status

from tessera.accounts import services
from tessera.accounts.api.routing import (
    VERIFY_LIMIT,
    AuthRouter,
    code_sent_out,
    per_user,
    user_out,
)
from tessera.accounts.schemas import (
    CodeSentOut,
    EmailChangeConfirmIn,
    EmailChangeIn,
    EmailCodeSentOut,
    PhoneChangeIn,
    UserOut,
    VerifyOtpIn,
)
from tessera.core.auth import bearer_auth, require_user
from tessera.core.context import client_context

router = AuthRouter()

REQUEST_LIMIT = per_user("10/hour")
CONFIRM_LIMIT = [*VERIFY_LIMIT, *per_user("10/hour")]


@router.post(
    "/me/email",
    response={202: EmailCodeSentOut},
    auth=bearer_auth,
    throttle=REQUEST_LIMIT,
    summary="Change your email address: a code goes to the new one (confirm it to apply)",
    description=(
        "Needs `currentPassword` when the account has a password. The reply is the same "
        "whether or not another account has the address; such an address never gets a code. "
        "Then `POST /api/auth/me/email/confirm` with the code (or open the emailed link)."
    ),
)
def me_email_change(request: HttpRequest, payload: EmailChangeIn) -> Status[EmailCodeSentOut]:
    sent = services.email_change_request(
        user=require_user(request),
        email=payload.email,
        current_password=payload.current_password,
        client=client_context(request),
    )
    return Status(
        202,
        EmailCodeSentOut(
            detail=_(
                "If the address can receive it, a code is on its way. Your address changes "
                "once you confirm it."
            ),
            email=sent.email,
            expires_in=sent.expires_in,
            resend_in=sent.resend_in,
            code_length=sent.code_length,
        ),
    )


@router.post(
    "/me/email/confirm",
    response=UserOut,
    auth=bearer_auth,
    throttle=CONFIRM_LIMIT,
    summary="Confirm your new email address with its code; it replaces the old one, verified",
)
def me_email_confirm(request: HttpRequest, payload: EmailChangeConfirmIn) -> UserOut:
    user = services.email_change_confirm(
        user=require_user(request),
        email=payload.email,
        code=payload.code,
        client=client_context(request),
    )
    return user_out(user, request)


@router.post(
    "/me/phone",
    response={202: CodeSentOut},
    auth=bearer_auth,
    throttle=REQUEST_LIMIT,
    summary="Change your phone number: a code goes to the new one by SMS (confirm it to apply)",
    description=(
        "Needs `currentPassword` when the account has a password. The number's code limits "
        "apply (one per minute, five an hour). The reply is the same whether or not another "
        "account has the number; such a number never gets a code. "
        "Then `POST /api/auth/me/phone/confirm` with the code."
    ),
)
def me_phone_change(request: HttpRequest, payload: PhoneChangeIn) -> Status[CodeSentOut]:
    sent = services.phone_change_request(
        user=require_user(request),
        phone_number=payload.phone_number,
        current_password=payload.current_password,
        client=client_context(request),
    )
    return Status(202, code_sent_out(sent))


@router.post(
    "/me/phone/confirm",
    response=UserOut,
    auth=bearer_auth,
    throttle=CONFIRM_LIMIT,
    summary="Confirm your new phone number with its code; it replaces the old one, verified",
)
def me_phone_confirm(request: HttpRequest, payload: VerifyOtpIn) -> UserOut:
    user = services.phone_change_confirm(
        user=require_user(request),
        phone_number=payload.phone_number,
        otp_code=payload.otp_code,
        client=client_context(request),
    )
    return user_out(user, request)
