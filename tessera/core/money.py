"""Money: an integer of minor units and an ISO 4217 currency, never a float.

In the API an amount is a decimal string with its currency (`"150.00"`, `"ZAR"`); in the
database an integer of minor units (15000). `amount_parse` is the one way in: it refuses a
non-number (only ASCII digits with one optional point and a leading minus: no exponent,
sign, digit separator or other script's digits), zero or a negative amount (unless allowed),
more decimals than the currency has, and a currency that is unknown or not accepted here
(`MONEY_CURRENCIES`). Each refusal is a 422 naming the field. `amount_format` is the way
out. The number of decimals of each currency comes from CLDR (Babel), which also formats
amounts for people in English and Arabic (`amount_display`).
"""

from __future__ import annotations

import re
import unicodedata
from dataclasses import dataclass
from decimal import Decimal, InvalidOperation
from typing import Any

from babel.numbers import (
    format_currency,
    get_currency_precision,
    get_currency_symbol,
    list_currencies,
)
from django.conf import settings
from django.utils.translation import gettext as _

from tessera.core.errors import CoreErrorCode, InvalidInputError

# What `Decimal()` would also take ("1e3", "+5", "1_000", "١٢", " 5 ") is refused: an amount
# means exactly what it shows.
_AMOUNT_FORMAT = re.compile(r"-?[0-9]+(?:\.[0-9]+)?")

# Far beyond any real payment and still exact in a 64-bit column of minor units.
MAX_MINOR_UNITS = 10**15


@dataclass(frozen=True, slots=True)
class Money:
    minor: int
    currency: str

    def __str__(self) -> str:
        return f"{amount_format(self.minor, self.currency)} {self.currency}"


def currency_check(currency: Any, *, field: str = "currency") -> str:
    """The currency code, upper case, if it is an ISO 4217 code accepted here."""
    code = str(currency or "").strip().upper()
    if not code:
        # An amount sent without its currency (a price, a price range).
        raise InvalidInputError(
            _("A currency is required (ISO 4217, such as ZAR)."),
            code=CoreErrorCode.CURRENCY_UNKNOWN,
            fields={field: _("Required.")},
        )
    if code not in _known_currencies():
        raise InvalidInputError(
            _("%(currency)s is not a currency code (ISO 4217, such as ZAR).")
            % {"currency": str(currency)[:10]},
            code=CoreErrorCode.CURRENCY_UNKNOWN,
            fields={field: _("Unknown currency.")},
        )
    if code not in accepted_currencies():
        raise InvalidInputError(
            _("%(currency)s is not accepted here; use one of %(accepted)s.")
            % {"currency": code, "accepted": ", ".join(accepted_currencies())},
            code=CoreErrorCode.CURRENCY_NOT_ACCEPTED,
            fields={field: _("Currency not accepted.")},
        )
    return code


def currency_exponent(currency: str) -> int:
    """Decimals the currency has (2 for ZAR, 0 for JPY, 3 for KWD)."""
    return int(get_currency_precision(currency))


def accepted_currencies() -> list[str]:
    return [code.upper() for code in settings.MONEY_CURRENCIES]


def _known_currencies() -> set[str]:
    return set(list_currencies())


def amount_parse(
    value: Any,
    currency: str,
    *,
    field: str = "amount",
    allow_zero: bool = False,
    allow_negative: bool = False,
) -> int:
    """The amount in minor units of `currency` (already checked with `currency_check`)."""
    if isinstance(value, float | bool):
        # A float has already lost precision (0.1 + 0.2): amounts travel as strings.
        raise _invalid(field)
    text = str(value).strip() if isinstance(value, str) else str(value)
    if not isinstance(value, str | int | Decimal) or not _AMOUNT_FORMAT.fullmatch(text):
        raise _invalid(field)
    try:
        amount = Decimal(text)
    except (InvalidOperation, ValueError):  # pragma: no cover - the format admits only numbers
        raise _invalid(field) from None
    exponent = currency_exponent(currency)
    minor = amount.scaleb(exponent)
    if minor != minor.to_integral_value():
        raise InvalidInputError(
            _("%(currency)s amounts have at most %(digits)d decimals.")
            % {"currency": currency, "digits": exponent},
            code=CoreErrorCode.AMOUNT_TOO_PRECISE,
            fields={field: _("Too many decimals for this currency.")},
        )
    units = int(minor)
    if (units < 0 and not allow_negative) or (units == 0 and not allow_zero):
        raise InvalidInputError(
            _("The amount must be more than zero."),
            code=CoreErrorCode.AMOUNT_NOT_POSITIVE,
            fields={field: _("Must be more than zero.")},
        )
    if abs(units) >= MAX_MINOR_UNITS:
        raise InvalidInputError(
            _("The amount is too large."),
            code=CoreErrorCode.AMOUNT_TOO_LARGE,
            fields={field: _("Too large.")},
        )
    return units


def amount_format(minor: int, currency: str) -> str:
    """Minor units as the API's decimal string: 15000 ZAR -> "150.00"."""
    exponent = currency_exponent(currency)
    return f"{Decimal(minor).scaleb(-exponent):.{exponent}f}"


def amount_display(minor: int, currency: str, *, language: str = "en") -> str:
    """For people (emails, notifications, the balance's `display`), in CLDR's form for the
    language: "$150.00" and "ZAR 150.00" in English, "150.00 ZAR" (right to left) in Arabic."""
    exponent = currency_exponent(currency)
    text = str(format_currency(Decimal(minor).scaleb(-exponent), currency, locale=language))
    return _currency_spaced(text, str(get_currency_symbol(currency, locale=language)))


def _currency_spaced(text: str, symbol: str) -> str:
    """CLDR's currency spacing, which ICU applies and Babel does not: a symbol that ends (or
    starts) with a letter, such as an ISO code, is kept apart from the digits by a no-break
    space ("ZAR 150.00", never "ZAR150.00"); "$" and "€" stay attached."""
    start = text.find(symbol)
    if start < 0 or not symbol:
        return text
    end = start + len(symbol)
    if end < len(text) and text[end].isdigit() and not _is_symbol(symbol[-1]):
        text = f"{text[:end]}\N{NO-BREAK SPACE}{text[end:]}"
    if start > 0 and text[start - 1].isdigit() and not _is_symbol(symbol[0]):
        text = f"{text[:start]}\N{NO-BREAK SPACE}{text[start:]}"
    return text


def _is_symbol(character: str) -> bool:
    return unicodedata.category(character).startswith("S")


def _invalid(field: str) -> InvalidInputError:
    return InvalidInputError(
        _('The amount must be a decimal number written as a string, such as "150.00".'),
        code=CoreErrorCode.AMOUNT_INVALID,
        fields={field: _("Not a decimal amount.")},
    )
