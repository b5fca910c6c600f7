"""Bank details for payouts: validated, kept encrypted (Fernet), shown masked.

Required: the account holder's name, the account number and the bank or branch code; an
IBAN when given is checked with schwifty (country format and mod-97 checksum). At rest the
details are one Fernet token (MultiFernet over `PAYMENTS_ENCRYPTION_KEYS`, newest first, so
keys rotate: decrypt with any, encrypt with the first); without keys (development) a key is
derived from DJANGO_SECRET_KEY, which production refuses.
"""

from __future__ import annotations

import base64
import hashlib
import re
from collections.abc import Mapping
from typing import Any

import orjson
from cryptography.fernet import Fernet, InvalidToken, MultiFernet
from django.conf import settings
from django.utils.translation import gettext as _
from schwifty import IBAN
from schwifty.exceptions import SchwiftyException

from tessera.payments.errors import BankDetailsInvalidError

HOLDER_PATTERN = re.compile(r"^[^\W\d_](?:[^\W\d_]|[ .'\u2019-]){1,99}$")
ACCOUNT_NUMBER_PATTERN = re.compile(r"^\d{6,20}$")
BANK_CODE_PATTERN = re.compile(r"^[A-Z0-9]{3,11}$")
COUNTRY_PATTERN = re.compile(r"^[A-Z]{2}$")
FIELD_NAMES = {
    "account_holder": "accountHolder",
    "account_number": "accountNumber",
    "bank_code": "bankCode",
    "iban": "iban",
    "bank_name": "bankName",
    "country": "country",
}


def _clean(value: Any) -> str:
    return " ".join(str(value or "").split())


def bank_details_validate(details: Mapping[str, Any], *, prefix: str = "bankDetails") -> dict:
    """The details normalised (digits only, upper case, the IBAN compact), or a 422 naming
    every wrong field as the client sent it (`bankDetails.accountNumber`)."""
    holder = _clean(details.get("account_holder"))
    number = re.sub(r"[\s-]", "", str(details.get("account_number") or ""))
    bank_code = re.sub(r"[\s-]", "", str(details.get("bank_code") or "")).upper()
    iban_raw = str(details.get("iban") or "").strip()
    bank_name = _clean(details.get("bank_name"))[:100]
    country = _clean(details.get("country")).upper()
    errors: dict[str, str] = {}
    if not HOLDER_PATTERN.match(holder):
        errors["account_holder"] = _("The account holder's name, as the bank knows it.")
    if not ACCOUNT_NUMBER_PATTERN.match(number):
        errors["account_number"] = _("An account number is 6 to 20 digits.")
    if not BANK_CODE_PATTERN.match(bank_code):
        errors["bank_code"] = _("A bank or branch code is 3 to 11 letters or digits.")
    if country and not COUNTRY_PATTERN.match(country):
        errors["country"] = _("A two-letter country code (ISO 3166), such as ZA.")
    iban = ""
    if iban_raw:
        try:
            iban = IBAN(iban_raw).compact
        except SchwiftyException:
            errors["iban"] = _("Not a valid IBAN (its format or check digits are wrong).")
    if errors:
        raise BankDetailsInvalidError(
            fields={f"{prefix}.{FIELD_NAMES[name]}": message for name, message in errors.items()}
        )
    normalised = {"account_holder": holder, "account_number": number, "bank_code": bank_code}
    if iban:
        normalised["iban"] = iban
        country = country or iban[:2]
    if bank_name:
        normalised["bank_name"] = bank_name
    if country:
        normalised["country"] = country
    return normalised


def _fernet() -> MultiFernet:
    keys = list(settings.PAYMENTS_ENCRYPTION_KEYS)
    if not keys:
        digest = hashlib.sha256(
            b"tessera.payments.bank-details\n" + settings.SECRET_KEY.encode()
        ).digest()
        keys = [base64.urlsafe_b64encode(digest).decode()]
    return MultiFernet([Fernet(key.strip().encode()) for key in keys])


def bank_details_encrypt(details: Mapping[str, str]) -> str:
    return _fernet().encrypt(orjson.dumps(dict(details), option=orjson.OPT_SORT_KEYS)).decode()


def bank_details_decrypt(token: str) -> dict[str, str]:
    try:
        return dict(orjson.loads(_fernet().decrypt(token.encode())))
    except InvalidToken:
        raise ValueError("the bank details cannot be decrypted with the configured keys") from None


def _mask_digits(value: str, *, keep: int = 4) -> str:
    return "•" * max(0, len(value) - keep) + value[-keep:]


def bank_details_mask(details: Mapping[str, str]) -> dict[str, str]:
    """What may be shown: the holder, the bank, and only the last digits of the account."""
    masked = {
        "account_holder": details.get("account_holder", ""),
        "account_number": _mask_digits(details.get("account_number", "")),
        "bank_code": details.get("bank_code", ""),
    }
    if details.get("iban"):
        iban = details["iban"]
        masked["iban"] = iban[:4] + _mask_digits(iban[4:])
    for name in ("bank_name", "country"):
        if details.get(name):
            masked[name] = details[name]
    return masked
