"""Reads of the payments module for products and the admin."""

from __future__ import annotations

import uuid
from typing import Any

from django.db.models import QuerySet

from tessera.payments.errors import PaymentOrderNotFoundError, PayoutNotFoundError
from tessera.payments.models import PaymentOrder, Payout


def as_uuid(value: Any) -> uuid.UUID | None:
    try:
        return uuid.UUID(str(value))
    except (ValueError, TypeError, AttributeError):
        return None


def payment_order_get(*, order_id: Any) -> PaymentOrder:
    key = as_uuid(order_id)
    order = PaymentOrder.objects.filter(pk=key).first() if key else None
    if order is None:
        raise PaymentOrderNotFoundError
    return order


def payment_orders_for_reference(*, purpose: str, reference: str) -> QuerySet[PaymentOrder]:
    """Every order made for one thing a product sells, newest first."""
    return PaymentOrder.objects.filter(purpose=purpose, reference=reference).order_by("-created_at")


def payout_get(*, payout_id: Any) -> Payout:
    key = as_uuid(payout_id)
    payout = Payout.objects.filter(pk=key).first() if key else None
    if payout is None:
        raise PayoutNotFoundError
    return payout


def payouts_for_reference(*, purpose: str, reference: str) -> QuerySet[Payout]:
    return Payout.objects.filter(purpose=purpose, reference=reference).order_by("-created_at")
