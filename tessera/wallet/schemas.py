"""Requests and replies of the wallet API (amounts as decimal strings with a currency)."""

from __future__ import annotations

from datetime import datetime
from typing import Any, Literal
from uuid import UUID

from django.utils.translation import get_language
from pydantic import Field

from tessera.core.api import AwareInstant, CamelSchema, InputSchema
from tessera.core.money import amount_display, amount_format
from tessera.payments.schemas import BankDetailsIn, BankDetailsOut

# The values of `models.TransactionKind`, as an enum in the OpenAPI document.
TransactionKindName = Literal["deposit", "withdrawal", "refund", "chargeback", "adjustment"]

AMOUNT_DESCRIPTION = 'A decimal string in the currency\'s units, such as "150.00".'


class DepositIn(InputSchema):
    amount: str = Field(..., max_length=32, description=AMOUNT_DESCRIPTION)
    currency: str = Field(..., max_length=8, description="ISO 4217, such as ZAR.")


class WithdrawalIn(InputSchema):
    amount: str = Field(..., max_length=32, description=AMOUNT_DESCRIPTION)
    currency: str = Field(..., max_length=8, description="ISO 4217, such as ZAR.")
    bank_details: BankDetailsIn


class TransactionOut(CamelSchema):
    id: UUID
    kind: TransactionKindName
    direction: str
    status: str
    amount: str
    currency: str
    description: str
    checkout_url: str | None
    expires_at: datetime | None
    bank_details: BankDetailsOut | None
    failure_reason: str | None
    created_at: datetime
    completed_at: datetime | None

    @staticmethod
    def resolve_amount(obj: Any) -> str:
        return amount_format(obj.amount_minor, obj.currency)

    @staticmethod
    def resolve_checkout_url(obj: Any) -> str | None:
        # Only while the deposit can still be paid.
        return obj.checkout_url if obj.checkout_url and obj.status == "pending" else None

    @staticmethod
    def resolve_bank_details(obj: Any) -> dict[str, Any] | None:
        return dict(obj.bank_details_masked) if obj.bank_details_masked else None

    @staticmethod
    def resolve_failure_reason(obj: Any) -> str | None:
        return obj.failure_reason or None


class DepositOut(TransactionOut):
    """`transactionId` and `checkoutUrl`, as the Octoco design names them, and the rest."""

    transaction_id: UUID

    @staticmethod
    def resolve_transaction_id(obj: Any) -> UUID:
        return obj.pk


class WithdrawalOut(DepositOut):
    pass


class BalanceOut(CamelSchema):
    currency: str
    amount: str
    in_flight: str = Field(description="Withdrawals on their way to the bank (already deducted).")
    display: str

    @staticmethod
    def resolve_amount(obj: dict[str, Any]) -> str:
        return amount_format(obj["balance_minor"], obj["currency"])

    @staticmethod
    def resolve_in_flight(obj: dict[str, Any]) -> str:
        return amount_format(obj["in_flight_minor"], obj["currency"])

    @staticmethod
    def resolve_display(obj: dict[str, Any]) -> str:
        return amount_display(
            obj["balance_minor"], obj["currency"], language=get_language() or "en"
        )


class BalancesOut(CamelSchema):
    balances: list[BalanceOut]


class TransactionFilter(CamelSchema):
    kind: TransactionKindName | None = None
    status: (
        Literal["pending", "processing", "completed", "failed", "expired", "cancelled"] | None
    ) = None
    currency: str | None = Field(None, max_length=3)
    # With an offset (`Z`): a naive time would be read in the server's zone.
    created_after: AwareInstant | None = None
    created_before: AwareInstant | None = None
