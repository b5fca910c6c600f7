"""How a product hears what happened to its payments (payments never imports a product).

    from tessera.payments.hooks import PaymentHandler, register

    class TicketPayments(PaymentHandler):
        def on_order_paid(self, event: OrderEvent) -> None: ...

    register("events.ticket", TicketPayments())     # in the product's AppConfig.ready()

A handler is called exactly once per status change, inside the database transaction that
makes the change: its writes and the payment's new status commit or roll back together, and
a handler that raises rolls the change back (the webhook delivery is retried, then
dead-lettered). Work outside the database (email, HTTP) belongs in a task enqueued with
`tessera.core.jobs.enqueue_on_commit`. Handlers should be idempotent all the same.

Events are frozen dataclasses, never model instances.
"""

from __future__ import annotations

import threading
from dataclasses import dataclass
from datetime import datetime
from uuid import UUID

from django.core.exceptions import ImproperlyConfigured


@dataclass(frozen=True, slots=True)
class OrderEvent:
    order_id: UUID
    purpose: str
    reference: str
    owner_id: UUID
    status: str  # the new status
    previous_status: str
    amount_minor: int
    currency: str
    refunded_minor: int  # refunded so far, this refund included
    refund_amount_minor: int  # this refund's amount (on_order_refunded), else 0
    provider: str
    provider_purchase_id: str | None
    failure_reason: str
    occurred_at: datetime
    # On on_order_refunded: "refund" (the merchant gave it back) or "chargeback" (the
    # payer's bank took it back); else "".
    refund_kind: str = ""


@dataclass(frozen=True, slots=True)
class PayoutEvent:
    payout_id: UUID
    purpose: str
    reference: str
    owner_id: UUID
    status: str
    previous_status: str
    amount_minor: int
    currency: str
    provider: str
    provider_payout_id: str | None
    failure_reason: str
    occurred_at: datetime


class PaymentHandler:
    """Override what the product needs; the others do nothing."""

    def on_order_paid(self, event: OrderEvent) -> None:
        """The order is paid (possibly after it had failed, expired or been cancelled)."""

    def on_order_failed(self, event: OrderEvent) -> None:
        """The order ended unpaid: `event.status` is failed, cancelled or expired."""

    def on_order_refunded(self, event: OrderEvent) -> None:
        """Part or all of a paid order went back (`refund_amount_minor`): a refund, or a
        chargeback (`refund_kind`)."""

    def on_payout_completed(self, event: PayoutEvent) -> None:
        """The money reached the bank account."""

    def on_payout_failed(self, event: PayoutEvent) -> None:
        """The payout failed: nothing left the platform."""


_handlers: dict[str, PaymentHandler] = {}
_lock = threading.Lock()


def register(purpose: str, handler: PaymentHandler) -> None:
    """Route events of orders and payouts made for `purpose` to `handler`."""
    from tessera.payments.models.orders import purpose_validator

    purpose_validator(purpose)
    with _lock:
        existing = _handlers.get(purpose)
        if existing is not None and type(existing) is not type(handler):
            raise ImproperlyConfigured(
                f"Payments purpose {purpose!r} already has the handler {existing!r}."
            )
        _handlers[purpose] = handler


def unregister(purpose: str) -> None:
    with _lock:
        _handlers.pop(purpose, None)


def handler_for(purpose: str) -> PaymentHandler | None:
    return _handlers.get(purpose)


def registered_purposes() -> list[str]:
    return sorted(_handlers)


__all__ = [
    "OrderEvent",
    "PaymentHandler",
    "PayoutEvent",
    "handler_for",
    "register",
    "registered_purposes",
    "unregister",
]
