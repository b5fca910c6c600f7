"""Schemas products may embed in their own replies and requests."""

from __future__ import annotations

from datetime import datetime
from typing import Any
from uuid import UUID

from pydantic import Field

from tessera.core.api import CamelSchema, InputSchema
from tessera.core.money import amount_format


class BankDetailsIn(InputSchema):
    """Where a payout goes. The IBAN is optional; when given its check digits are verified."""

    account_holder: str = Field(..., max_length=100, description="The name the bank knows.")
    account_number: str = Field(..., max_length=40, description="6 to 20 digits.")
    bank_code: str = Field(
        ..., max_length=20, description="The bank or branch code (3 to 11 letters or digits)."
    )
    iban: str | None = Field(None, max_length=42)
    bank_name: str | None = Field(None, max_length=100)
    country: str | None = Field(None, max_length=2, description="ISO 3166 alpha-2, e.g. ZA.")


class BankDetailsOut(CamelSchema):
    """Bank details as they may be shown: only the last digits of the account."""

    account_holder: str = ""
    account_number: str = ""
    bank_code: str = ""
    iban: str | None = None
    bank_name: str | None = None
    country: str | None = None


class PaymentOrderOut(CamelSchema):
    id: UUID
    status: str
    amount: str
    currency: str
    refunded_amount: str
    checkout_url: str | None
    expires_at: datetime
    paid_at: datetime | None
    created_at: datetime

    @staticmethod
    def resolve_amount(obj: Any) -> str:
        return amount_format(obj.amount_minor, obj.currency)

    @staticmethod
    def resolve_refunded_amount(obj: Any) -> str:
        return amount_format(obj.refunded_minor, obj.currency)

    @staticmethod
    def resolve_checkout_url(obj: Any) -> str | None:
        return obj.checkout_url or None
