"""What a payment gateway does for Tessera, and the values that cross the interface."""

from __future__ import annotations

from abc import ABC, abstractmethod
from collections.abc import Mapping
from dataclasses import dataclass, field
from datetime import datetime
from typing import Any

EVENT_PURCHASE = "purchase"
EVENT_REFUND = "refund"
EVENT_CHARGEBACK = "chargeback"
EVENT_PAYOUT = "payout"
EVENT_OTHER = "other"


class ProviderError(Exception):
    """The gateway could not be reached or failed (network, timeout, 5xx): retry later."""


class ProviderRefusedError(Exception):
    """The gateway answered that the request is wrong (4xx): retrying will not help."""

    def __init__(self, message: str, *, status: int | None = None, body: str = "") -> None:
        super().__init__(message)
        self.status = status
        self.body = body[:500]


@dataclass(frozen=True)
class CheckoutRequest:
    order_id: str  # also the idempotency key the gateway is given
    amount_minor: int
    currency: str
    description: str
    customer_email: str
    language: str
    success_url: str
    failure_url: str
    callback_url: str
    expires_at: datetime


@dataclass(frozen=True)
class Checkout:
    purchase_id: str
    checkout_url: str


@dataclass(frozen=True)
class PayoutRequest:
    payout_id: str  # also the idempotency key the gateway is given
    amount_minor: int
    currency: str
    description: str
    bank_details: Mapping[str, str]
    callback_url: str


@dataclass(frozen=True)
class PayoutSubmission:
    payout_id: str  # the gateway's id
    status: str  # processing | completed | failed
    failure_reason: str = ""


@dataclass(frozen=True)
class RefundResult:
    refund_id: str
    amount_minor: int


@dataclass(frozen=True)
class ProviderEvent:
    """What the gateway says happened, from a webhook or a status query.

    `kind` is purchase, refund, chargeback, payout or other; `status` is Tessera's word for
    the outcome: for a purchase paid, failed, cancelled, expired or pending; for a payout
    completed, failed or processing; for a refund or chargeback succeeded.
    """

    kind: str
    status: str
    object_id: str  # the gateway's purchase or payout id
    reference: str = ""  # ours (the order's or payout's id), when the gateway echoes it
    amount_minor: int | None = None
    currency: str | None = None
    event_type: str = ""
    event_id: str = ""
    occurred_at: datetime | None = None
    refund_id: str = ""
    failure_reason: str = ""
    raw: Mapping[str, Any] = field(default_factory=dict, compare=False, repr=False)


class PaymentProvider(ABC):
    """A gateway adapter. Network calls raise ProviderError (retry) or ProviderRefusedError."""

    name: str

    @abstractmethod
    def checkout_create(self, request: CheckoutRequest) -> Checkout: ...

    @abstractmethod
    def purchase_fetch(self, purchase_id: str) -> ProviderEvent: ...

    @abstractmethod
    def purchase_cancel(self, purchase_id: str) -> None: ...

    @abstractmethod
    def refund_create(
        self, *, purchase_id: str, amount_minor: int, idempotency_key: str
    ) -> RefundResult: ...

    @abstractmethod
    def payout_create(self, request: PayoutRequest) -> PayoutSubmission: ...

    @abstractmethod
    def payout_fetch(self, payout_id: str) -> ProviderEvent: ...

    @abstractmethod
    def webhook_verify(self, body: bytes, headers: Mapping[str, str]) -> None:
        """Raise signing.SignatureError unless the delivery is signed by the gateway."""

    @abstractmethod
    def webhook_parse(self, body: bytes) -> ProviderEvent:
        """The event in a verified delivery (ValueError when it is not one)."""
