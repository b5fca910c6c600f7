"""Changing an account's email address or phone number: nothing changes until the new one
is proven with a single-use code sent to it.

The request needs the current password when the account has one. An address that belongs
to another account gets the same reply as a free one, but no code is sent to it (the code
is recorded undelivered, so the caps behave the same). Confirming checks again, inside the
transaction and against the database's unique constraint, that no other account took the
address in between. On success the address is marked verified, the user's codes for the
old one stop working, the old address is told, and an audit entry is written; saving the
user moves its authentication-cache generation. Capsules sent to the new address attach
at the next inbox read, as for any verified address (`capsules_claim_pending`).
"""

from __future__ import annotations

from dataclasses import dataclass
from datetime import timedelta

from django.conf import settings
from django.db import IntegrityError, transaction
from django.utils import timezone, translation
from django.utils.translation import gettext

from tessera.accounts.errors import (
    AddressUnchangedError,
    EmailTakenError,
    InvalidVerificationCodeError,
    OtpAttemptsExceededError,
    OtpInvalidError,
    OtpLimitReachedError,
    OtpResendTooSoonError,
    PasswordRequiredError,
    PhoneTakenError,
    WrongPasswordError,
)
from tessera.accounts.locks import advisory_lock
from tessera.accounts.models import User, VerificationCode
from tessera.accounts.phone import email_mask, phone_mask, phone_normalize
from tessera.accounts.services.codes import (
    CheckResult,
    code_check,
    code_generate,
    code_hash,
    code_issue,
)
from tessera.accounts.services.otp import CodeSent, ip_cap, otp_issue
from tessera.accounts.services.passwords import (
    EMAIL_CODE_LENGTH,
    _send_template_email,
    email_normalize,
)
from tessera.accounts.services.sessions import _ip
from tessera.audit.services import audit_record
from tessera.core.context import ClientContext
from tessera.core.links import site_url
from tessera.notifications.selectors import template_render
from tessera.notifications.services import notify, send_sms

Purpose = VerificationCode.Purpose
State = VerificationCode.State


@dataclass(frozen=True)
class EmailChangeSent:
    email: str
    expires_in: int
    resend_in: int
    code_length: int


def _password_confirm(*, user: User, current_password: str) -> None:
    """The current password, when the account has one (a phone or social account may not)."""
    user.refresh_from_db(fields=["password"])  # the request's user may be a cached copy
    if not user.has_usable_password():
        return
    if not current_password:
        raise PasswordRequiredError
    if not user.check_password(current_password):
        raise WrongPasswordError(
            fields={"currentPassword": str(WrongPasswordError.default_message)}
        )


def _email_caps(*, target: str) -> None:
    """One code per `AUTH_OTP_RESEND_SECONDS` and `AUTH_OTP_MAX_PER_NUMBER_PER_HOUR` an hour
    per address, as for phone numbers."""
    now = timezone.now()
    recent = list(
        VerificationCode.objects.filter(
            target=target, purpose=Purpose.EMAIL_CHANGE, created_at__gt=now - timedelta(hours=1)
        )
        .order_by("-created_at")
        .values_list("created_at", flat=True)
    )
    if recent:
        next_allowed = recent[0] + timedelta(seconds=settings.AUTH_OTP_RESEND_SECONDS)
        if next_allowed > now:
            raise OtpResendTooSoonError(retry_after=_seconds(next_allowed - now))
    if len(recent) >= settings.AUTH_OTP_MAX_PER_NUMBER_PER_HOUR:
        oldest = recent[settings.AUTH_OTP_MAX_PER_NUMBER_PER_HOUR - 1]
        raise OtpLimitReachedError(retry_after=_seconds(oldest + timedelta(hours=1) - now))


def _seconds(delta: timedelta) -> int:
    return max(1, int(delta.total_seconds() + 0.999))


def email_change_request(
    *, user: User, email: str, current_password: str = "", client: ClientContext | None = None
) -> EmailChangeSent:
    """Email a code (and a link) to the new address; the account keeps its address until
    `email_change_confirm`."""
    new_email = email_normalize(email)
    target = new_email.lower()
    if (user.email or "").lower() == target:
        raise AddressUnchangedError(field="email")
    _password_confirm(user=user, current_password=current_password)
    ttl = settings.AUTH_EMAIL_VERIFICATION_TTL_SECONDS
    with transaction.atomic():
        advisory_lock(f"email-change:{target}")
        _email_caps(target=target)
        taken = User.objects.filter(email__iexact=target).exclude(pk=user.pk).exists()
        code = code_generate(EMAIL_CODE_LENGTH)
        code_issue(
            purpose=Purpose.EMAIL_CHANGE,
            target=target,
            user=user,
            ttl_seconds=ttl,
            code=code,
            hashed=code_hash(purpose=Purpose.EMAIL_CHANGE, target=target, code=code),
            delivered=not taken,
            ip_address=_ip(client),
            per_user=True,
        )
        if not taken:
            link = site_url(
                "/confirm-email-change",
                {
                    "email": new_email,
                    "code": code,
                    "lang": user.language if user.language != settings.LANGUAGE_CODE else None,
                },
            )
            _send_template_email(
                to=new_email,
                key="auth.email_change",
                language=user.language,
                context={"name": user.name, "code": code, "link": link, "minutes": ttl // 60},
            )
        audit_record(
            action="account.email_change.requested",
            actor=user,
            target=user,
            changes={"email": email_mask(target), "delivered": not taken},
            client=client,
        )
    return EmailChangeSent(
        email=new_email,
        expires_in=ttl,
        resend_in=settings.AUTH_OTP_RESEND_SECONDS,
        code_length=EMAIL_CODE_LENGTH,
    )


def email_change_confirm(
    *, user: User, email: str, code: str, client: ClientContext | None = None
) -> User:
    """Apply the new address with the code sent to it (once); it becomes verified."""
    new_email = email_normalize(email)
    target = new_email.lower()
    failure: type[Exception] | None = None
    changed: User | None = None
    with transaction.atomic():
        result = code_check(
            purpose=Purpose.EMAIL_CHANGE,
            target=target,
            code=code,
            max_attempts=settings.AUTH_OTP_MAX_ATTEMPTS,
            user=user,
        )
        if not result.accepted:
            failure = InvalidVerificationCodeError
            _audit_failure(
                user=user, kind="email", address=email_mask(target), result=result, client=client
            )
        else:
            account = User.objects.select_for_update().get(pk=user.pk)
            old_email = account.email
            account.email = new_email
            account.email_verified_at = timezone.now()
            if _save_unless_taken(
                account, ["email", "email_verified_at", "updated_at"], email=target
            ):
                _after_address_change(
                    account,
                    retire=[Purpose.EMAIL_VERIFY, Purpose.PASSWORD_RESET],
                    action="account.email.changed",
                    masked=(email_mask(old_email) if old_email else None, email_mask(target)),
                    channel="email",
                    old=old_email or "",
                    client=client,
                )
                changed = account
            else:
                failure = EmailTakenError
    if failure is not None or changed is None:
        raise (failure or InvalidVerificationCodeError)()
    return changed


def phone_change_request(
    *,
    user: User,
    phone_number: str,
    current_password: str = "",
    client: ClientContext | None = None,
) -> CodeSent:
    """Text a code to the new number (E.164), within the number's caps; the account keeps its
    number until `phone_change_confirm`."""
    number = phone_normalize(phone_number)
    if user.phone_number == number:
        raise AddressUnchangedError(field="phoneNumber")
    _password_confirm(user=user, current_password=current_password)
    ip_cap(client)
    with transaction.atomic():
        advisory_lock(f"otp:{number}")
        taken = User.objects.filter(phone_number=number).exclude(pk=user.pk).exists()
        return otp_issue(
            number=number,
            purpose=Purpose.PHONE_CHANGE,
            user=user,
            deliver=not taken,
            client=client,
            per_user=True,
        )


def phone_change_confirm(
    *, user: User, phone_number: str, otp_code: str, client: ClientContext | None = None
) -> User:
    """Apply the new number with the code texted to it (once); it becomes verified."""
    number = phone_normalize(phone_number)
    failure: type[Exception] | None = None
    changed: User | None = None
    with transaction.atomic():
        result = code_check(
            purpose=Purpose.PHONE_CHANGE,
            target=number,
            code=otp_code,
            max_attempts=settings.AUTH_OTP_MAX_ATTEMPTS,
            user=user,
        )
        if not result.accepted:
            failure = OtpAttemptsExceededError if result.burned else OtpInvalidError
            _audit_failure(
                user=user, kind="phone", address=phone_mask(number), result=result, client=client
            )
        else:
            account = User.objects.select_for_update().get(pk=user.pk)
            old_number = account.phone_number
            account.phone_number = number
            account.phone_verified_at = timezone.now()
            fields = ["phone_number", "phone_verified_at", "updated_at"]
            if _save_unless_taken(account, fields, phone_number=number):
                _after_address_change(
                    account,
                    retire=[Purpose.PHONE_LOGIN],
                    action="account.phone.changed",
                    masked=(phone_mask(old_number) if old_number else None, phone_mask(number)),
                    channel="sms",
                    old=old_number or "",
                    client=client,
                )
                changed = account
            else:
                failure = PhoneTakenError
    if failure is not None or changed is None:
        raise (failure or OtpInvalidError)()
    return changed


def _save_unless_taken(account: User, fields: list[str], **address: str) -> bool:
    """Save the new address unless another account holds it: checked first (a clear answer
    on every database), then enforced by the unique constraint if one slips in between."""
    lookup = {f"{name}__iexact": value for name, value in address.items()}
    if User.objects.filter(**lookup).exclude(pk=account.pk).exists():
        return False
    try:
        with transaction.atomic():
            account.save(update_fields=fields)
    except IntegrityError:
        return False
    return True


def _retire_codes(*, user: User, purposes: list[str]) -> None:
    """Codes sent to the old address (a verification, a reset link, a login code) stop
    working: whoever holds that address no longer speaks for the account."""
    VerificationCode.objects.filter(user=user, purpose__in=purposes, state=State.ACTIVE).update(
        state=State.SUPERSEDED, updated_at=timezone.now()
    )


def _audit_failure(
    *, user: User, kind: str, address: str, result: CheckResult, client: ClientContext | None
) -> None:
    audit_record(
        action=f"account.{kind}_change.failed",
        actor=user,
        target=user,
        changes={
            kind: address,
            "attempts": result.record.attempts if result.record is not None else None,
            "burned": result.burned,
        },
        client=client,
    )


def _after_address_change(
    account: User,
    *,
    retire: list[str],
    action: str,
    masked: tuple[str | None, str],
    channel: str,
    old: str,
    client: ClientContext | None,
) -> None:
    """What follows an applied change of address: codes tied to the old one stop working,
    the audit log records it (masked), and the old address is told."""
    _retire_codes(user=account, purposes=retire)
    audit_record(
        action=action,
        actor=account,
        target=account,
        changes={"from": masked[0], "to": masked[1]},
        client=client,
    )
    _tell_old_address(user=account, channel=channel, old=old, client=client)


def _tell_old_address(*, user: User, channel: str, old: str, client: ClientContext | None) -> None:
    """A security alert in the app and to the address the account no longer has."""
    with translation.override(user.language):
        if channel == "email":
            event = gettext("Your email address was changed to %(address)s") % {
                "address": email_mask(user.email or "")
            }
        else:
            event = gettext("Your phone number was changed to %(address)s") % {
                "address": phone_mask(user.phone_number or "")
            }
    context = {"name": user.name, "event": event, "ip_address": _ip(client) or ""}
    notify(user=user, kind="security.alert", critical=True, channels=["in_app"], context=context)
    if not old:
        return
    if channel == "email":
        _send_template_email(to=old, key="security.alert", language=user.language, context=context)
        return
    message = template_render(
        key="security.alert", channel="sms", language=user.language, context=context
    )
    send_sms(to=old, body=message.body, kind="security.alert", language=message.language)
