"""Thin Celery tasks over the notification services."""

from __future__ import annotations

from typing import Any

from celery import shared_task

from tessera.core.jobs import TRANSIENT_ERRORS, TesseraTask
from tessera.notifications.errors import TransientDeliveryError
from tessera.notifications.sending import delivery_send


@shared_task(
    base=TesseraTask,
    bind=True,
    name="notifications.send_delivery",
    autoretry_for=(*TRANSIENT_ERRORS, TransientDeliveryError),
)
def send_delivery(self: Any, delivery_id: str) -> str:
    """Send one delivery; transient provider errors retry with backoff and jitter."""
    final_attempt = self.request.retries >= self.max_retries
    delivery = delivery_send(delivery_id=delivery_id, final_attempt=final_attempt)
    return delivery.status if delivery is not None else "missing"
