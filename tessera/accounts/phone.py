"""Phone numbers in E.164, parsed with Google's libphonenumber (the `phonenumbers` package)."""

from __future__ import annotations

import phonenumbers
from django.conf import settings

from tessera.accounts.errors import InvalidPhoneNumberError

MAX_INPUT_LENGTH = 32


def phone_normalize(raw: str, *, field: str = "phoneNumber") -> str:
    """`raw` as E.164 (`+27821234567`), or `InvalidPhoneNumberError` (a 422)."""
    text = (raw or "").strip()
    if not text or len(text) > MAX_INPUT_LENGTH:
        raise InvalidPhoneNumberError(field=field)
    region = settings.AUTH_PHONE_DEFAULT_REGION
    if not text.startswith("+") and region is None:
        raise InvalidPhoneNumberError(field=field)
    try:
        parsed = phonenumbers.parse(text, region)
    except phonenumbers.NumberParseException:
        raise InvalidPhoneNumberError(field=field) from None
    if not phonenumbers.is_valid_number(parsed):
        raise InvalidPhoneNumberError(field=field)
    return phonenumbers.format_number(parsed, phonenumbers.PhoneNumberFormat.E164)


def phone_mask(number: str) -> str:
    """`+27821234567` → `+2782*****67`: enough to tell numbers apart in the audit log."""
    if len(number) <= 6:
        return "*" * len(number)
    return number[:5] + "*" * (len(number) - 7) + number[-2:]


def email_mask(email: str) -> str:
    local, _sep, domain = email.partition("@")
    return f"{local[:1]}***@{domain}" if domain else "***"
