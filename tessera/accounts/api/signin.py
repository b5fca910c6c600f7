"""Phone sign-up and login by SMS code (Loopin), and the login path both flows share."""

# No `from __future__ import annotations`: Ninja builds the Union body model from the
# evaluated annotations.
from typing import Any

from django.conf import settings
from django.http import HttpRequest, HttpResponse
from ninja import Body

from tessera.accounts import services
from tessera.accounts.api.routing import (
    LOGIN_LIMIT,
    VERIFY_LIMIT,
    AuthRouter,
    code_sent_out,
    pair_out,
)
from tessera.accounts.schemas import (
    CodeSentOut,
    LoginIn,
    PhoneIn,
    TokenPairOut,
    VerifyOtpIn,
)
from tessera.accounts.services.lockout import DEVICE_COOKIE
from tessera.core.context import client_context

router = AuthRouter()

Purpose = services.otp.Purpose


@router.post("/signup", response=CodeSentOut, summary="Send a sign-up code to a phone number")
def signup(request: HttpRequest, payload: PhoneIn) -> CodeSentOut:
    return code_sent_out(
        services.otp_send(
            phone_number=payload.phone_number,
            purpose=Purpose.PHONE_SIGNUP,
            client=client_context(request),
        )
    )


@router.post(
    "/verify-otp",
    response=TokenPairOut,
    throttle=VERIFY_LIMIT,
    summary="Trade a sign-up code for tokens (creates the account on first use)",
)
def verify_otp(request: HttpRequest, payload: VerifyOtpIn) -> TokenPairOut:
    return pair_out(
        request,
        services.otp_verify(
            phone_number=payload.phone_number,
            otp_code=payload.otp_code,
            purpose=Purpose.PHONE_SIGNUP,
            client=client_context(request),
        ),
    )


@router.post(
    "/login",
    response=TokenPairOut | CodeSentOut,
    throttle=LOGIN_LIMIT,
    summary="Log in: email and password (tokens), or a phone number alone (an SMS code)",
    description=(
        "Two bodies share this path. `{email, password}` logs in and returns the token pair "
        "and sets a device cookie. Five failures lock that account out from that address for "
        "15 minutes; after five failures from anywhere, clients the account does not know "
        "(no device cookie, an address it never signed in from) wait a delay that grows with "
        "each failure (429 `login_throttled` with Retry-After). "
        "`{phoneNumber}` alone sends a login code by SMS (then `POST /api/auth/verify-login`)."
    ),
)
def login(request: HttpRequest, payload: Body[LoginIn], response: HttpResponse) -> Any:
    if isinstance(payload, PhoneIn):
        return code_sent_out(
            services.otp_send(
                phone_number=payload.phone_number,
                purpose=Purpose.PHONE_LOGIN,
                client=client_context(request),
            )
        )
    pair = services.login_password(
        email=payload.email,
        password=payload.password,
        client=client_context(request),
        device_token=request.COOKIES.get(DEVICE_COOKIE),
    )
    # The device cookie makes this client known to the account next time: it skips the
    # delay that failed logins from elsewhere put on the account (services/lockout.py).
    response.set_cookie(
        DEVICE_COOKIE,
        pair.device_token,
        max_age=settings.AUTH_DEVICE_COOKIE_DAYS * 24 * 3600,
        path="/api/auth/",
        secure=request.is_secure() or settings.SESSION_COOKIE_SECURE,
        httponly=True,
        samesite="Strict",
    )
    return pair_out(request, pair)


@router.post(
    "/verify-login",
    response=TokenPairOut,
    throttle=VERIFY_LIMIT,
    summary="Trade a phone login code for tokens",
)
def verify_login(request: HttpRequest, payload: VerifyOtpIn) -> TokenPairOut:
    return pair_out(
        request,
        services.otp_verify(
            phone_number=payload.phone_number,
            otp_code=payload.otp_code,
            purpose=Purpose.PHONE_LOGIN,
            client=client_context(request),
        ),
    )
