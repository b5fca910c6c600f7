"""Thin Celery wrappers over the payment services (ids in, idempotent)."""

from __future__ import annotations

from typing import Any

from celery import shared_task
from django.conf import settings

from tessera.core.jobs import TRANSIENT_ERRORS, TesseraTask, drain_release
from tessera.payments import sandbox, services
from tessera.payments.providers import ProviderError


@shared_task(base=TesseraTask, bind=True, name="payments.process_webhook", max_retries=None)
def process_webhook(self: Any, delivery_id: str) -> str:
    """Process one webhook delivery; failures retry with exponential backoff until
    PAYMENTS_WEBHOOK_MAX_ATTEMPTS, then the delivery is a dead letter (and so is the task)."""
    try:
        return services.webhook_process(delivery_id=delivery_id)
    except Exception as exc:
        retry_in = services.webhook_record_failure(delivery_id=delivery_id, error=exc)
        if retry_in is None:
            raise
        raise self.retry(exc=exc, countdown=retry_in) from exc


@shared_task(base=TesseraTask, bind=True, name="payments.drain_webhooks")
def drain_webhooks(
    self: Any, slot: int | None = None, slot_token: str | None = None
) -> dict[str, int]:
    """Process every due received delivery (scheduled by the intake, at most
    PAYMENTS_WEBHOOK_DRAINS at once). The slot is freed (if this drain still owns it: its
    `slot_token` is still the marker's), then the inbox looked at once more, so a delivery
    stored while this drain held its slot is never left behind. A delivery
    that failed is retried through `process_webhook` after its backoff (and found by a
    later drain, or the sweep, if that task is lost)."""
    try:
        first = services.webhooks_drain()
    finally:
        drain_release(name=services.WEBHOOK_DRAIN_NAME, slot=slot, token=slot_token)
    last = services.webhooks_drain()
    if not self.request.is_eager:
        for delivery_id, retry_in in [*first.retries, *last.retries]:
            process_webhook.apply_async(kwargs={"delivery_id": delivery_id}, countdown=retry_in)
    return {"processed": first.processed + last.processed, "failed": first.failed + last.failed}


@shared_task(
    base=TesseraTask,
    name="payments.payout_submit",
    autoretry_for=(ProviderError, *TRANSIENT_ERRORS),
    max_retries=12,
)
def payout_submit_task(payout_id: str) -> str:
    return str(services.payout_submit(payout_id=payout_id).status)


@shared_task(
    base=TesseraTask,
    name="payments.sandbox_deliver_webhook",
    autoretry_for=(sandbox.SandboxDeliveryError, *TRANSIENT_ERRORS),
    max_retries=None,  # the sandbox counts attempts itself (PAYMENTS_SANDBOX_WEBHOOK_MAX_ATTEMPTS)
    retry_backoff=2,
    retry_backoff_max=600,
)
def sandbox_deliver_webhook(webhook_id: str) -> bool:
    return sandbox.webhook_deliver(webhook_id=webhook_id)


@shared_task(base=TesseraTask, name="payments.sandbox_settle_payout")
def sandbox_settle_payout(payout_id: str) -> str:
    payout = sandbox.payout_settle(payout_id=payout_id)
    if payout is None:
        return "missing"
    if payout.settled_at is None and not settings.CELERY_TASK_ALWAYS_EAGER:
        # Ran early (a broker's ETA is approximate): once more at the due time.
        from django.utils import timezone

        remaining = (payout.settle_at - timezone.now()).total_seconds()
        sandbox_settle_payout.apply_async(
            kwargs={"payout_id": payout_id}, countdown=max(0.1, remaining)
        )
    return str(payout.status)


@shared_task(base=TesseraTask, name="payments.reconcile")
def payments_reconcile() -> dict[str, Any]:
    result = services.payments_reconcile()
    return {"checked": result.checked, "settled": result.settled, "errors": len(result.errors)}


@shared_task(base=TesseraTask, name="payments.sweep")
def payments_sweep() -> dict[str, int]:
    result = services.payments_sweep()
    return {
        "webhooks": result.webhooks,
        "payouts": result.payouts,
        "sandbox_payouts": result.sandbox_payouts,
        "sandbox_webhooks": result.sandbox_webhooks,
    }
