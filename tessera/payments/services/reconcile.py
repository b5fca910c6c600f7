"""Reconciliation: ask the gateway about what stayed open, and resend what was lost."""

from __future__ import annotations

from dataclasses import dataclass, field
from datetime import timedelta
from typing import Any

import structlog
from django.conf import settings
from django.db import transaction

from tessera.payments import sandbox
from tessera.payments.models import (
    DeliveryState,
    OrderStatus,
    PaymentOrder,
    Payout,
    PayoutStatus,
    WebhookDelivery,
)
from tessera.payments.models.orders import OPEN_ORDER, OPEN_PAYOUT
from tessera.payments.providers import ProviderRefusedError, provider_get
from tessera.payments.services import orders as order_services
from tessera.payments.services.common import now
from tessera.payments.services.payouts import payout_apply_event, payout_submit
from tessera.payments.services.webhooks import LOST_AFTER, webhooks_lost

logger = structlog.get_logger("tessera.payments.reconcile")


@dataclass
class ReconcileResult:
    checked: int = 0
    settled: int = 0
    errors: list[str] = field(default_factory=list)


def order_reconcile(*, order_id: Any) -> str:
    """Settle one open order from what the gateway says; expire it when it is past its
    expiry and still unpaid there."""
    order = PaymentOrder.objects.get(pk=order_id)
    if order.status not in OPEN_ORDER:
        return f"order {order.pk} is {order.status}"
    if not order.provider_purchase_id:
        # The gateway never made a checkout for it: nobody can have paid.
        with transaction.atomic():
            locked = PaymentOrder.objects.select_for_update().get(pk=order.pk)
            if locked.status in OPEN_ORDER:
                order_services._close(locked, OrderStatus.EXPIRED)
                return f"order {order.pk} expired (no checkout was made)"
        return f"order {order.pk} closed meanwhile"
    provider = provider_get(order.provider)
    event = provider.purchase_fetch(order.provider_purchase_id)
    if event.status != "pending":
        return order_services.order_apply_event(order_id=order.pk, event=event)
    if now() < order.expires_at:
        return f"order {order.pk} still pending"
    try:
        provider.purchase_cancel(order.provider_purchase_id)
    except ProviderRefusedError:
        event = provider.purchase_fetch(order.provider_purchase_id)
        if event.status != "pending":
            return order_services.order_apply_event(order_id=order.pk, event=event)
    with transaction.atomic():
        locked = PaymentOrder.objects.select_for_update().get(pk=order.pk)
        if order_services._close(locked, OrderStatus.EXPIRED):
            return f"order {order.pk} expired"
    return f"order {order.pk} closed meanwhile"


def payout_reconcile(*, payout_id: Any) -> str:
    payout = Payout.objects.get(pk=payout_id)
    if payout.status not in OPEN_PAYOUT:
        return f"payout {payout.pk} is {payout.status}"
    if payout.status == PayoutStatus.CREATED or not payout.provider_payout_id:
        payout = payout_submit(payout_id=payout.pk)
        return f"payout {payout.pk} submitted ({payout.status})"
    event = provider_get(payout.provider).payout_fetch(payout.provider_payout_id)
    return payout_apply_event(payout_id=payout.pk, event=event)


def payments_reconcile(*, limit: int = 500) -> ReconcileResult:
    """Every 15 minutes: orders and payouts still open after
    `PAYMENTS_RECONCILE_AFTER_SECONDS` are checked with the gateway and settled. One
    failure is logged and does not stop the others."""
    result = ReconcileResult()
    cutoff = now() - timedelta(seconds=settings.PAYMENTS_RECONCILE_AFTER_SECONDS)
    orders = PaymentOrder.objects.filter(status__in=OPEN_ORDER, created_at__lte=cutoff)
    payouts = Payout.objects.filter(status__in=OPEN_PAYOUT, created_at__lte=cutoff)
    work: list[tuple[Any, Any, Any, dict[str, Any]]] = [
        (order_reconcile, PaymentOrder, OPEN_ORDER, {"order_id": pk})
        for pk in orders.values_list("pk", flat=True)[:limit]
    ]
    work += [
        (payout_reconcile, Payout, OPEN_PAYOUT, {"payout_id": pk})
        for pk in payouts.values_list("pk", flat=True)[:limit]
    ]
    for function, model, open_states, kwargs in work:
        result.checked += 1
        try:
            outcome = function(**kwargs)
        except Exception as exc:
            message = f"{kwargs}: {type(exc).__name__}: {exc}"
            result.errors.append(message[:500])
            logger.exception("reconcile_failed", detail=message)
            continue
        (pk,) = kwargs.values()
        if not model.objects.filter(pk=pk, status__in=open_states).exists():
            result.settled += 1
        logger.info("reconciled", outcome=outcome)
    retention = now() - timedelta(days=settings.PAYMENTS_WEBHOOK_REJECTED_RETENTION_DAYS)
    WebhookDelivery.objects.filter(state=DeliveryState.REJECTED, created_at__lt=retention).delete()
    return result


@dataclass
class SweepResult:
    webhooks: int = 0
    payouts: int = 0
    sandbox_payouts: int = 0
    sandbox_webhooks: int = 0


def payments_sweep() -> SweepResult:
    """Every minute: send again what a lost task left behind (a broker down at commit):
    received deliveries, unsubmitted payouts, the sandbox's due payouts and webhooks."""
    from tessera.payments.tasks import payout_submit_task, process_webhook, sandbox_deliver_webhook

    result = SweepResult()
    for delivery_id in webhooks_lost():
        process_webhook.apply_async(kwargs={"delivery_id": delivery_id})
        result.webhooks += 1
    stale = now() - LOST_AFTER
    for payout_id in Payout.objects.filter(
        status=PayoutStatus.CREATED, created_at__lte=stale
    ).values_list("pk", flat=True)[:500]:
        payout_submit_task.apply_async(kwargs={"payout_id": str(payout_id)})
        result.payouts += 1
    result.sandbox_payouts = sandbox.payouts_settle_due()
    for webhook_id in sandbox.webhooks_due():
        sandbox_deliver_webhook.apply_async(kwargs={"webhook_id": webhook_id})
        result.sandbox_webhooks += 1
    return result
