"""Shared by the payment services: hook dispatch, event values, small helpers."""

from __future__ import annotations

from datetime import datetime

from django.utils import timezone

from tessera.payments import hooks
from tessera.payments.models import PaymentOrder, Payout
from tessera.payments.selectors import as_uuid  # noqa: F401 - used by the services


class UnhandledPurposeError(RuntimeError):
    """No product registered a handler for this purpose: nobody would hear the outcome."""


class UnknownObjectError(RuntimeError):
    """A verified event names a purchase or payout this site does not know (yet)."""


class EventMismatchError(RuntimeError):
    """A verified event contradicts what is recorded (another amount, currency, a payout
    completed after it failed): a person must look, the delivery is dead-lettered."""


class NotYetApplicableError(RuntimeError):
    """The event cannot apply yet (a refund of an order not paid yet): retried later."""


def now() -> datetime:
    return timezone.now()


def handler_require(purpose: str) -> hooks.PaymentHandler:
    handler = hooks.handler_for(purpose)
    if handler is None:
        raise UnhandledPurposeError(
            f"No payments handler is registered for {purpose!r}: register one with "
            "tessera.payments.hooks.register in the product's AppConfig.ready()."
        )
    return handler


def order_event(
    order: PaymentOrder,
    *,
    previous_status: str,
    refund_amount_minor: int = 0,
    refund_kind: str = "",
) -> hooks.OrderEvent:
    return hooks.OrderEvent(
        order_id=order.pk,
        purpose=order.purpose,
        reference=order.reference,
        owner_id=order.owner_id,
        status=str(order.status),
        previous_status=previous_status,
        amount_minor=order.amount_minor,
        currency=order.currency,
        refunded_minor=order.refunded_minor,
        refund_amount_minor=refund_amount_minor,
        provider=order.provider,
        provider_purchase_id=order.provider_purchase_id,
        failure_reason=order.failure_reason,
        occurred_at=now(),
        refund_kind=refund_kind,
    )


def payout_event(payout: Payout, *, previous_status: str) -> hooks.PayoutEvent:
    return hooks.PayoutEvent(
        payout_id=payout.pk,
        purpose=payout.purpose,
        reference=payout.reference,
        owner_id=payout.owner_id,
        status=str(payout.status),
        previous_status=previous_status,
        amount_minor=payout.amount_minor,
        currency=payout.currency,
        provider=payout.provider,
        provider_payout_id=payout.provider_payout_id,
        failure_reason=payout.failure_reason,
        occurred_at=now(),
    )
