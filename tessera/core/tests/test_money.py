"""Amounts in and out: minor units, the currency's decimals, and every refusal by name."""

from __future__ import annotations

from decimal import Decimal

import pytest

from tessera.core.errors import InvalidInputError
from tessera.core.money import (
    MAX_MINOR_UNITS,
    amount_display,
    amount_format,
    amount_parse,
    currency_check,
    currency_exponent,
)


@pytest.mark.parametrize(
    ("value", "currency", "minor"),
    [
        ("150.00", "ZAR", 15000),
        ("150", "ZAR", 15000),
        ("0.01", "ZAR", 1),
        (" 12.5 ", "USD", 1250),
        (Decimal("99.99"), "EUR", 9999),
        (7, "GBP", 700),
        ("1.234", "KWD", 1234),
        ("500", "JPY", 500),
    ],
)
def test_an_amount_becomes_minor_units(value, currency, minor):
    assert amount_parse(value, currency) == minor


@pytest.mark.parametrize(
    ("value", "currency", "code"),
    [
        ("0", "ZAR", "amount_not_positive"),
        ("0.00", "ZAR", "amount_not_positive"),
        ("-5", "ZAR", "amount_not_positive"),
        ("1.001", "ZAR", "amount_too_precise"),
        ("1.5", "JPY", "amount_too_precise"),
        ("abc", "ZAR", "amount_invalid"),
        ("", "ZAR", "amount_invalid"),
        ("NaN", "ZAR", "amount_invalid"),
        ("Infinity", "ZAR", "amount_invalid"),
        ("1e400", "ZAR", "amount_invalid"),
        ("1e3", "ZAR", "amount_invalid"),
        ("1E2", "ZAR", "amount_invalid"),
        ("+5", "ZAR", "amount_invalid"),
        ("1_000", "ZAR", "amount_invalid"),
        ("\uff15", "ZAR", "amount_invalid"),  # a full-width 5
        ("\u0661\u0662", "ZAR", "amount_invalid"),  # Arabic-Indic 12
        (".5", "ZAR", "amount_invalid"),
        ("5.", "ZAR", "amount_invalid"),
        ("1 000", "ZAR", "amount_invalid"),
        ("--5", "ZAR", "amount_invalid"),
        (Decimal("NaN"), "ZAR", "amount_invalid"),
        (Decimal("1E+3"), "ZAR", "amount_invalid"),
        ([5], "ZAR", "amount_invalid"),
        (0.1, "ZAR", "amount_invalid"),
        (True, "ZAR", "amount_invalid"),
        (str(MAX_MINOR_UNITS), "ZAR", "amount_too_large"),
    ],
)
def test_a_bad_amount_is_refused_by_name(value, currency, code):
    with pytest.raises(InvalidInputError) as raised:
        amount_parse(value, currency, field="amount")

    assert raised.value.code == code
    assert list(raised.value.fields) == ["amount"]
    assert raised.value.status_code == 422


def test_zero_and_negative_only_where_allowed():
    assert amount_parse("0", "ZAR", allow_zero=True) == 0
    assert amount_parse("-1.50", "ZAR", allow_negative=True) == -150


def test_currencies_are_iso_codes_accepted_here(settings):
    settings.MONEY_CURRENCIES = ["ZAR", "USD"]

    assert currency_check("zar") == "ZAR"
    with pytest.raises(InvalidInputError) as unknown:
        currency_check("XYZ")
    with pytest.raises(InvalidInputError) as not_accepted:
        currency_check("EUR")

    assert unknown.value.code == "currency_unknown"
    assert not_accepted.value.code == "currency_not_accepted"
    assert list(not_accepted.value.fields) == ["currency"]


def test_minor_units_come_back_as_the_apis_decimal_string():
    assert currency_exponent("ZAR") == 2
    assert amount_format(15000, "ZAR") == "150.00"
    assert amount_format(1, "ZAR") == "0.01"
    assert amount_format(-150, "ZAR") == "-1.50"
    assert amount_format(500, "JPY") == "500"
    assert amount_format(1234, "KWD") == "1.234"


def test_amounts_are_shown_to_people_in_their_language():
    # An ISO code is kept apart from the digits (CLDR's currency spacing); a sign is not.
    assert amount_display(15000, "ZAR", language="en") == "ZAR\N{NO-BREAK SPACE}150.00"
    assert amount_display(-15000, "ZAR", language="en") == "-ZAR\N{NO-BREAK SPACE}150.00"
    assert amount_display(125000, "USD", language="en") == "$1,250.00"
    assert amount_display(125000, "EUR", language="en") == "€1,250.00"
    arabic = amount_display(15000, "ZAR", language="ar")
    assert arabic.endswith("150.00\N{NO-BREAK SPACE}ZAR")
    assert amount_display(15000, "USD", language="ar").endswith("150.00\N{NO-BREAK SPACE}US$")
