"""Helpers for payment tests: a recording product handler, signed webhook bodies."""

from __future__ import annotations

import time
from dataclasses import dataclass, field
from typing import Any

import orjson

from tessera.payments import sandbox
from tessera.payments.hooks import OrderEvent, PaymentHandler, PayoutEvent
from tessera.payments.providers import signing

TEST_PURPOSE = "tests.thing"


@dataclass
class RecordingHandler(PaymentHandler):
    """A product that records what it hears, and can be told to fail."""

    calls: list[tuple[str, Any]] = field(default_factory=list)
    fail_with: BaseException | None = None

    def _record(self, name: str, event: Any) -> None:
        if self.fail_with is not None:
            raise self.fail_with
        self.calls.append((name, event))

    def on_order_paid(self, event: OrderEvent) -> None:
        self._record("paid", event)

    def on_order_failed(self, event: OrderEvent) -> None:
        self._record("failed", event)

    def on_order_refunded(self, event: OrderEvent) -> None:
        self._record("refunded", event)

    def on_payout_completed(self, event: PayoutEvent) -> None:
        self._record("payout_completed", event)

    def on_payout_failed(self, event: PayoutEvent) -> None:
        self._record("payout_failed", event)

    def names(self) -> list[str]:
        return [name for name, _ in self.calls]


def purchase_body(
    *,
    purchase_id: Any,
    event_type: str = "purchase.paid",
    status: str = "paid",
    total: int = 15000,
    currency: str = "ZAR",
    reference: str = "",
    updated_on: int | None = None,
) -> bytes:
    now = int(time.time()) if updated_on is None else updated_on
    return orjson.dumps(
        {
            "event_type": event_type,
            "id": str(purchase_id),
            "type": "purchase",
            "status": status,
            "reference": reference,
            "purchase": {"total": total, "currency": currency, "products": []},
            "created_on": now - 5,
            "updated_on": now,
        }
    )


def payout_body(
    *,
    payout_id: str,
    event_type: str = "payout.success",
    status: str = "success",
    amount: int = 5000,
    currency: str = "ZAR",
    reference: str = "",
    error: str = "",
    updated_on: int | None = None,
) -> bytes:
    now = int(time.time()) if updated_on is None else updated_on
    return orjson.dumps(
        {
            "event_type": event_type,
            "id": payout_id,
            "type": "payout",
            "status": status,
            "reference": reference,
            "amount": amount,
            "currency": currency,
            "error": error,
            "created_on": now - 5,
            "updated_on": now,
        }
    )


def _payment_body(
    *,
    event_type: str,
    payment_type: str,
    payment_id: str,
    purchase_id: Any,
    amount: int,
    currency: str,
) -> bytes:
    now = int(time.time())
    return orjson.dumps(
        {
            "event_type": event_type,
            "id": payment_id,
            "type": "payment",
            "payment_type": payment_type,
            "related_to": {"type": "purchase", "id": str(purchase_id)},
            "payment": {"amount": amount, "currency": currency},
            "created_on": now,
            "updated_on": now,
        }
    )


def refund_body(*, refund_id: str, purchase_id: Any, amount: int, currency: str = "ZAR") -> bytes:
    return _payment_body(
        event_type="payment.refunded",
        payment_type="refund",
        payment_id=refund_id,
        purchase_id=purchase_id,
        amount=amount,
        currency=currency,
    )


def chargeback_body(
    *, chargeback_id: str, purchase_id: Any, amount: int, currency: str = "ZAR"
) -> bytes:
    """A chargeback of part or all of a purchase, as the gateway sends it."""
    return _payment_body(
        event_type="payment.chargeback",
        payment_type="chargeback",
        payment_id=chargeback_id,
        purchase_id=purchase_id,
        amount=amount,
        currency=currency,
    )


def sandbox_sign(body: bytes) -> str:
    return sandbox.sign(body)


def key_sign(body: bytes, private_key: Any) -> str:
    return signing.sign(body, private_key)


def post_webhook(client: Any, provider: str, body: bytes, signature: str | None) -> Any:
    headers = {"HTTP_X_SIGNATURE": signature} if signature is not None else {}
    return client.post(
        f"/webhooks/{provider}", data=body, content_type="application/json", **headers
    )
