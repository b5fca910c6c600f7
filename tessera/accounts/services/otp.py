"""Phone sign-up and login with a one-time code sent by SMS (Loopin's flow).

`signup` and `login` send a code to a number; `verify-otp` and `verify-login` trade it for a
token pair. Replies never say whether a number has an account: a login code for a number
with none is recorded (so the resend and hourly caps behave the same) but not sent.
"""

from __future__ import annotations

import math
from dataclasses import dataclass
from datetime import datetime, timedelta

from django.conf import settings
from django.db import IntegrityError, transaction
from django.utils import timezone, translation

from tessera.accounts.errors import (
    OtpAttemptsExceededError,
    OtpInvalidError,
    OtpLimitReachedError,
    OtpResendTooSoonError,
)
from tessera.accounts.locks import advisory_lock
from tessera.accounts.models import User, VerificationCode
from tessera.accounts.phone import phone_mask, phone_normalize
from tessera.accounts.services.codes import code_check, code_generate, code_hash, code_issue
from tessera.accounts.services.sessions import TokenPair, _ip, session_start
from tessera.audit.services import audit_record
from tessera.core import ratelimit
from tessera.core.analytics import AnalyticsEvent, analytics_capture
from tessera.core.context import ClientContext
from tessera.core.errors import RateLimitedError
from tessera.notifications.selectors import template_render
from tessera.notifications.services import send_sms

Purpose = VerificationCode.Purpose
# Every code texted to a number counts towards that number's caps, whatever it is for.
PHONE_PURPOSES = (Purpose.PHONE_SIGNUP, Purpose.PHONE_LOGIN, Purpose.PHONE_CHANGE)


@dataclass(frozen=True)
class CodeSent:
    phone_number: str
    expires_in: int
    resend_in: int
    code_length: int


def ip_cap(client: ClientContext | None) -> None:
    if client is None or not ratelimit.request_limits_enabled():
        return
    decision = ratelimit.hit(settings.AUTH_OTP_IP_RATE, "auth-otp-ip", f"ip:{_ip(client)}")
    if not decision.allowed:
        raise RateLimitedError(retry_after=decision.retry_after)


def _seconds_until(moment: datetime) -> int:
    return max(1, math.ceil((moment - timezone.now()).total_seconds()))


def otp_send(*, phone_number: str, purpose: str, client: ClientContext | None = None) -> CodeSent:
    """Send a code for `purpose` (phone_signup or phone_login) to `phone_number`.

    At most one code per `AUTH_OTP_RESEND_SECONDS` and `AUTH_OTP_MAX_PER_NUMBER_PER_HOUR`
    codes an hour per number (every phone purpose together), and a per-address cap.
    """
    number = phone_normalize(phone_number)
    ip_cap(client)
    with transaction.atomic():
        # Two requests for one number run one after the other, so the caps hold exactly.
        advisory_lock(f"otp:{number}")
        user = User.objects.filter(phone_number=number).first()
        deliver = purpose == Purpose.PHONE_SIGNUP or (user is not None and user.is_active)
        return otp_issue(number=number, purpose=purpose, user=user, deliver=deliver, client=client)


def otp_issue(
    *,
    number: str,
    purpose: str,
    user: User | None,
    deliver: bool,
    client: ClientContext | None = None,
    per_user: bool = False,
) -> CodeSent:
    """Record a code for the E.164 `number` and text it when `deliver`, within the number's
    caps. Runs in the caller's transaction, which holds the number's advisory lock.

    An undelivered code is still recorded, so the caps (and the reply) are the same whether
    or not a text went out.
    """
    now = timezone.now()
    recent = list(
        VerificationCode.objects.filter(
            target=number,
            purpose__in=PHONE_PURPOSES,
            created_at__gt=now - timedelta(hours=1),
        ).order_by("-created_at")
    )
    if recent:
        next_allowed = recent[0].created_at + timedelta(seconds=settings.AUTH_OTP_RESEND_SECONDS)
        if next_allowed > now:
            raise OtpResendTooSoonError(retry_after=_seconds_until(next_allowed))
    if len(recent) >= settings.AUTH_OTP_MAX_PER_NUMBER_PER_HOUR:
        oldest = recent[settings.AUTH_OTP_MAX_PER_NUMBER_PER_HOUR - 1]
        raise OtpLimitReachedError(
            retry_after=_seconds_until(oldest.created_at + timedelta(hours=1))
        )
    length = settings.AUTH_OTP_LENGTH
    code = code_generate(length)
    issued = code_issue(
        purpose=purpose,
        target=number,
        user=user,
        ttl_seconds=settings.AUTH_OTP_TTL_SECONDS,
        code=code,
        hashed=code_hash(purpose=purpose, target=number, code=code),
        delivered=deliver,
        ip_address=_ip(client),
        per_user=per_user,
    )
    if deliver:
        language = user.language if user is not None else translation.get_language()
        message = template_render(
            key="otp.code",
            channel="sms",
            language=language,
            context={"code": code, "minutes": settings.AUTH_OTP_TTL_SECONDS // 60},
        )
        send_sms(to=number, body=message.body, kind="otp.code", language=message.language)
    audit_record(
        action="auth.otp.sent",
        actor=user,
        target=issued.record,
        changes={"purpose": purpose, "phone": phone_mask(number), "delivered": deliver},
        client=client,
    )
    return CodeSent(
        phone_number=number,
        expires_in=settings.AUTH_OTP_TTL_SECONDS,
        resend_in=settings.AUTH_OTP_RESEND_SECONDS,
        code_length=length,
    )


def otp_verify(
    *, phone_number: str, otp_code: str, purpose: str, client: ClientContext | None = None
) -> TokenPair:
    """Trade a code for a token pair. A sign-up code creates the account on first use."""
    number = phone_normalize(phone_number)
    failure: type[OtpInvalidError] | type[OtpAttemptsExceededError] | None = None
    pair: TokenPair | None = None
    with transaction.atomic():
        result = code_check(
            purpose=purpose,
            target=number,
            code=otp_code,
            max_attempts=settings.AUTH_OTP_MAX_ATTEMPTS,
        )
        user = User.objects.filter(phone_number=number).first()
        if result.accepted and purpose == Purpose.PHONE_SIGNUP and user is None:
            user = _user_for_new_number(number)
        if result.accepted and user is not None and user.is_active:
            if user.phone_verified_at is None:
                user.phone_verified_at = timezone.now()
                user.save(update_fields=["phone_verified_at", "updated_at"])
            pair = session_start(user=user, method=purpose, client=client)
        else:
            failure = OtpAttemptsExceededError if result.burned else OtpInvalidError
            audit_record(
                action="auth.otp.failed",
                actor=user,
                target=result.record,
                target_type="" if result.record else "phone",
                changes={
                    "purpose": purpose,
                    "phone": phone_mask(number),
                    "attempts": result.record.attempts if result.record else None,
                    "burned": result.burned,
                },
                client=client,
            )
    if failure is not None or pair is None:
        raise (failure or OtpInvalidError)()
    return pair


def _user_for_new_number(number: str) -> User:
    try:
        with transaction.atomic():
            user = User.objects.create_user(phone_number=number)
            analytics_capture(
                distinct_id=user.pk,
                event=AnalyticsEvent.USER_SIGNED_UP,
                properties={"method": "phone"},
            )
            return user
    except IntegrityError:
        # Another request created the account for this number a moment ago.
        return User.objects.get(phone_number=number)
