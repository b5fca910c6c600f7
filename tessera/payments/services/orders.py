"""Orders: money in through the gateway's checkout, and refunds of it."""

from __future__ import annotations

from datetime import timedelta
from typing import Any

import structlog
from django.conf import settings
from django.db import IntegrityError, transaction

from tessera.core.money import currency_check
from tessera.payments.errors import (
    IdempotencyMismatchError,
    PaymentOrderNotFoundError,
    PaymentOrderStateError,
    PaymentProviderRefusedError,
    PaymentProviderUnavailableError,
    RefundTooLargeError,
)
from tessera.payments.models import (
    OrderStatus,
    PaymentOrder,
    PaymentTransaction,
    TransactionKind,
    TransactionStatus,
    WebhookDelivery,
)
from tessera.payments.models.orders import CLOSED_UNPAID, OPEN_ORDER, REFUNDABLE
from tessera.payments.providers import (
    CheckoutRequest,
    ProviderError,
    ProviderEvent,
    ProviderRefusedError,
    callback_url,
    provider_get,
)
from tessera.payments.providers.base import EVENT_CHARGEBACK
from tessera.payments.selectors import payment_order_get
from tessera.payments.services.common import (
    EventMismatchError,
    NotYetApplicableError,
    as_uuid,
    handler_require,
    now,
    order_event,
)

logger = structlog.get_logger("tessera.payments")

PAID_STATES = [OrderStatus.PAID, *REFUNDABLE, OrderStatus.REFUNDED]


def _owner_contact(owner_id: Any) -> tuple[str, str]:
    from tessera.accounts.selectors import user_get_any

    user = user_get_any(user_id=owner_id)
    if user is None:
        raise ValueError(f"no user {owner_id}")
    return str(user.email or ""), str(user.language or "en")


def payment_order_create(
    *,
    owner_id: Any,
    purpose: str,
    reference: str,
    amount_minor: int,
    currency: str,
    description: str = "",
    success_url: str | None = None,
    failure_url: str | None = None,
    idempotency_key: str,
    expires_in: timedelta | None = None,
) -> PaymentOrder:
    """An order with a checkout at the gateway: `order.checkout_url` is where the person pays.

    The same (purpose, reference, idempotency_key) returns the same order (a 422 when the
    amount, currency or owner differ). The order is committed before the gateway is called,
    so call this outside your own transaction: if the gateway is down the order stays
    `created` and a retry with the same key asks the gateway again (with the order's id as
    the gateway's idempotency key, so no second purchase is made). Raises
    PaymentProviderUnavailableError (503) or PaymentProviderRefusedError (502).
    """
    handler_require(purpose)
    currency = currency_check(currency)
    if not isinstance(amount_minor, int) or isinstance(amount_minor, bool) or amount_minor <= 0:
        raise ValueError("amount_minor must be a positive integer")
    order = _order_get_or_create(
        owner_id=owner_id,
        purpose=purpose,
        reference=reference,
        amount_minor=amount_minor,
        currency=currency,
        description=description,
        success_url=success_url or "",
        failure_url=failure_url or "",
        idempotency_key=idempotency_key,
        expires_in=expires_in or timedelta(seconds=settings.PAYMENTS_ORDER_TTL_SECONDS),
    )
    if order.status != OrderStatus.CREATED:
        return order
    provider = provider_get(order.provider)
    email, language = _owner_contact(owner_id)
    try:
        checkout = provider.checkout_create(
            CheckoutRequest(
                order_id=str(order.pk),
                amount_minor=order.amount_minor,
                currency=order.currency,
                description=order.description,
                customer_email=email,
                language=language,
                success_url=order.success_url,
                failure_url=order.failure_url,
                callback_url=callback_url(order.provider),
                expires_at=order.expires_at,
            )
        )
    except ProviderError as exc:
        logger.warning("payment_checkout_unavailable", order_id=str(order.pk), error=str(exc))
        raise PaymentProviderUnavailableError from exc
    except ProviderRefusedError as exc:
        logger.warning("payment_checkout_refused", order_id=str(order.pk), error=str(exc))
        order_fail(order_id=order.pk, reason=f"The gateway refused the checkout: {exc}")
        raise PaymentProviderRefusedError from exc
    with transaction.atomic():
        order = PaymentOrder.objects.select_for_update().get(pk=order.pk)
        if order.status == OrderStatus.CREATED:
            order.open_checkout(
                purchase_id=checkout.purchase_id, checkout_url=checkout.checkout_url
            )
            order.save()
        elif not order.provider_purchase_id:
            # A webhook (paid, failed) overtook this answer: keep the ids all the same.
            order.provider_purchase_id = checkout.purchase_id
            order.checkout_url = checkout.checkout_url
            order.save(update_fields=["provider_purchase_id", "checkout_url", "updated_at"])
    return order


def _order_get_or_create(
    *, owner_id: Any, purpose: str, reference: str, idempotency_key: str, **fields: Any
) -> PaymentOrder:
    lookup = {"purpose": purpose, "reference": reference, "idempotency_key": idempotency_key}
    existing = PaymentOrder.objects.filter(**lookup).first()
    if existing is None:
        expires_in = fields.pop("expires_in")
        try:
            with transaction.atomic():
                return PaymentOrder.objects.create(
                    owner_id=owner_id,
                    provider=settings.PAYMENTS_PROVIDER,
                    expires_at=now() + expires_in,
                    **lookup,
                    **fields,
                )
        except IntegrityError:
            existing = PaymentOrder.objects.get(**lookup)
    if (existing.owner_id, existing.amount_minor, existing.currency) != (
        as_uuid(owner_id) or owner_id,
        fields["amount_minor"],
        fields["currency"],
    ):
        raise IdempotencyMismatchError
    return existing


def _lock(order_id: Any) -> PaymentOrder:
    order = PaymentOrder.objects.select_for_update().filter(pk=order_id).first()
    if order is None:
        raise PaymentOrderNotFoundError
    return order


def _close(order: PaymentOrder, status: str, *, reason: str = "") -> bool:
    """Move an open order to failed, cancelled or expired and tell its product; False when
    it was no longer open."""
    if order.status not in OPEN_ORDER:
        return False
    previous = str(order.status)
    moment = now()
    if status == OrderStatus.FAILED:
        order.fail(now=moment, reason=reason)
    elif status == OrderStatus.CANCELLED:
        order.cancel(now=moment, reason=reason)
    else:
        order.expire(now=moment)
    order.save()
    handler_require(order.purpose).on_order_failed(order_event(order, previous_status=previous))
    return True


def order_fail(*, order_id: Any, reason: str) -> PaymentOrder:
    with transaction.atomic():
        order = _lock(order_id)
        _close(order, OrderStatus.FAILED, reason=reason)
    return order


def payment_order_cancel(*, order_id: Any, reason: str = "") -> PaymentOrder:
    """Cancel an order that is not paid (abandoned, expired on the product's side). The
    checkout is cancelled at the gateway first; if the person paid meanwhile the order ends
    `paid` instead (its product hears on_order_paid), and is returned as such."""
    order = payment_order_get(order_id=order_id)
    if order.status in (*CLOSED_UNPAID,):
        return order
    if order.status not in OPEN_ORDER:
        raise PaymentOrderStateError
    if order.provider_purchase_id:
        provider = provider_get(order.provider)
        try:
            provider.purchase_cancel(order.provider_purchase_id)
        except ProviderRefusedError:
            # Already closed there: whatever happened (paid, most likely) is what counts.
            event = _fetch(provider, order.provider_purchase_id)
            order_apply_event(order_id=order.pk, event=event)
            order.refresh_from_db()
            if order.status not in OPEN_ORDER:
                return order
        except ProviderError as exc:
            raise PaymentProviderUnavailableError from exc
    with transaction.atomic():
        order = _lock(order.pk)
        _close(order, OrderStatus.CANCELLED, reason=reason)
    return order


def _fetch(provider: Any, purchase_id: str) -> ProviderEvent:
    try:
        event: ProviderEvent = provider.purchase_fetch(purchase_id)
    except ProviderError as exc:
        raise PaymentProviderUnavailableError from exc
    return event


def order_apply_event(
    *, order_id: Any, event: ProviderEvent, delivery: WebhookDelivery | None = None
) -> str:
    """Apply what the gateway reported about an order (a webhook or a status query), under
    the order's row lock; returns what was done. Paid wins over failed; nothing after paid
    but refunds."""
    # No savepoint: inside the webhook's transaction a failure rolls the whole back.
    with transaction.atomic(savepoint=False):
        order = _lock(order_id)
        if event.kind in ("refund", EVENT_CHARGEBACK):
            return _refund_apply(
                order,
                refund_id=event.refund_id,
                amount_minor=event.amount_minor,
                kind=TransactionKind.CHARGEBACK
                if event.kind == EVENT_CHARGEBACK
                else TransactionKind.REFUND,
                delivery=delivery,
            )
        _check_amount(order, event)
        if event.status == "paid":
            return _order_pay(order, event=event, delivery=delivery)
        if event.status in (OrderStatus.FAILED, OrderStatus.CANCELLED, OrderStatus.EXPIRED):
            if _close(order, event.status, reason=event.failure_reason):
                return f"order {order.pk} {event.status}"
            return f"ignored: order {order.pk} is already {order.status}"
        return f"ignored: order {order.pk} still {event.status or 'pending'} at the gateway"


def _check_amount(order: PaymentOrder, event: ProviderEvent) -> None:
    if event.amount_minor is not None and event.amount_minor != order.amount_minor:
        raise EventMismatchError(
            f"order {order.pk}: the gateway reports {event.amount_minor} minor units, "
            f"the order is for {order.amount_minor}"
        )
    if event.currency and event.currency != order.currency:
        raise EventMismatchError(
            f"order {order.pk}: the gateway reports {event.currency}, the order is {order.currency}"
        )


def _order_pay(
    order: PaymentOrder, *, event: ProviderEvent, delivery: WebhookDelivery | None
) -> str:
    if order.status in PAID_STATES:
        return f"ignored: order {order.pk} is already {order.status}"
    previous = str(order.status)
    if not order.provider_purchase_id and event.object_id:
        order.provider_purchase_id = event.object_id
    order.pay(now=now())
    order.save()
    PaymentTransaction.objects.create(
        order=order,
        kind=TransactionKind.PAYMENT,
        status=TransactionStatus.SUCCEEDED,
        amount_minor=order.amount_minor,
        currency=order.currency,
        provider=order.provider,
        provider_reference=order.provider_purchase_id or "",
        delivery=delivery,
    )
    handler_require(order.purpose).on_order_paid(order_event(order, previous_status=previous))
    return f"order {order.pk} paid (was {previous})"


def _refund_apply(
    order: PaymentOrder,
    *,
    refund_id: str,
    amount_minor: int | None,
    kind: str,
    delivery: WebhookDelivery | None = None,
    pending: PaymentTransaction | None = None,
    reason: str = "",
) -> str:
    if not refund_id or amount_minor is None or amount_minor <= 0:
        raise EventMismatchError(f"order {order.pk}: a {kind} without an id or an amount")
    if PaymentTransaction.objects.filter(
        provider=order.provider, kind=kind, provider_reference=refund_id
    ).exists():
        return f"ignored: {kind} {refund_id} already recorded"
    if order.status not in REFUNDABLE:
        raise NotYetApplicableError(f"order {order.pk} is {order.status}: a {kind} cannot apply")
    if amount_minor > order.amount_minor - order.refunded_minor:
        raise EventMismatchError(
            f"order {order.pk}: a {kind} of {amount_minor} is more than what is left"
        )
    if pending is None:
        pending = (
            order.transactions.filter(
                kind=kind,
                status=TransactionStatus.PENDING,
                provider_reference="",
                amount_minor=amount_minor,
            )
            .order_by("created_at")
            .first()
        )
    if pending is not None:
        pending.status = TransactionStatus.SUCCEEDED
        pending.provider_reference = refund_id
        pending.delivery = pending.delivery or delivery
        pending.save(update_fields=["status", "provider_reference", "delivery", "updated_at"])
    else:
        PaymentTransaction.objects.create(
            order=order,
            kind=kind,
            status=TransactionStatus.SUCCEEDED,
            amount_minor=amount_minor,
            currency=order.currency,
            provider=order.provider,
            provider_reference=refund_id,
            reason=reason[:200],
            delivery=delivery,
        )
    previous = str(order.status)
    if order.refunded_minor + amount_minor == order.amount_minor:
        order.refund_fully(amount_minor=amount_minor)
    else:
        order.refund_partially(amount_minor=amount_minor)
    order.save()
    handler_require(order.purpose).on_order_refunded(
        order_event(
            order, previous_status=previous, refund_amount_minor=amount_minor, refund_kind=str(kind)
        )
    )
    return f"order {order.pk} {kind} of {amount_minor}"


def payment_refund(
    *,
    order_id: Any,
    amount_minor: int | None = None,
    reason: str = "",
    idempotency_key: str,
) -> PaymentOrder:
    """Refund all (`amount_minor=None`) or part of a paid order at the gateway. The same key
    is the same refund: a retry after a lost answer finishes it instead of refunding twice.
    The product hears on_order_refunded inside the transaction that records it."""
    with transaction.atomic():
        order = _lock(as_uuid(order_id))
        existing = order.transactions.filter(
            kind=TransactionKind.REFUND, idempotency_key=idempotency_key
        ).first()
        if existing is not None and existing.status != TransactionStatus.PENDING:
            if existing.status == TransactionStatus.FAILED:
                raise PaymentProviderRefusedError
            return order
        if existing is None:
            if order.status not in REFUNDABLE:
                raise PaymentOrderStateError
            pending_total = sum(
                order.transactions.filter(
                    kind=TransactionKind.REFUND, status=TransactionStatus.PENDING
                ).values_list("amount_minor", flat=True)
            )
            left = order.amount_minor - order.refunded_minor - pending_total
            amount = left if amount_minor is None else amount_minor
            if amount <= 0 or amount > left:
                raise RefundTooLargeError
            existing = PaymentTransaction.objects.create(
                order=order,
                kind=TransactionKind.REFUND,
                status=TransactionStatus.PENDING,
                amount_minor=amount,
                currency=order.currency,
                provider=order.provider,
                idempotency_key=idempotency_key,
                reason=reason[:200],
            )
    refund_tx = existing
    provider = provider_get(order.provider)
    try:
        result = provider.refund_create(
            purchase_id=str(order.provider_purchase_id),
            amount_minor=refund_tx.amount_minor,
            idempotency_key=str(refund_tx.pk),
        )
    except ProviderError as exc:
        raise PaymentProviderUnavailableError from exc
    except ProviderRefusedError as exc:
        PaymentTransaction.objects.filter(pk=refund_tx.pk, status=TransactionStatus.PENDING).update(
            status=TransactionStatus.FAILED, reason=str(exc)[:200]
        )
        raise PaymentProviderRefusedError from exc
    with transaction.atomic():
        order = _lock(order.pk)
        refund_tx.refresh_from_db()
        if refund_tx.status == TransactionStatus.PENDING:
            _refund_apply(
                order,
                refund_id=result.refund_id,
                amount_minor=result.amount_minor,
                kind=TransactionKind.REFUND,
                pending=refund_tx,
                reason=reason,
            )
    return order
