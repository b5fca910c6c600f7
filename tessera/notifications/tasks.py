"""Thin Celery tasks over the notification services."""

from __future__ import annotations

import math
from typing import Any

from celery import shared_task

from tessera.core.jobs import TRANSIENT_ERRORS, TesseraTask
from tessera.notifications.errors import TransientDeliveryError
from tessera.notifications.models import Channel
from tessera.notifications.sending import deliveries_send_queued, delivery_send


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


@shared_task(base=TesseraTask, bind=True, name="notifications.send_queued")
def send_queued(self: Any, channel: str) -> dict[str, Any]:
    """Send `channel`'s due deliveries in batches (enqueued after each `notify_many`).

    Hands over to a fresh task when its time budget is spent, and when a rate limit
    pauses the channel schedules one for when it may go on. Retries of single messages
    that failed for a while are picked up by `send_due`, every minute."""
    report = deliveries_send_queued(channel=channel)
    if not self.request.is_eager:
        if report.retry_in is not None:
            self.apply_async(kwargs={"channel": channel}, countdown=math.ceil(report.retry_in))
        elif report.more:
            self.apply_async(kwargs={"channel": channel})
    return report.as_dict()


@shared_task(base=TesseraTask, name="notifications.send_due")
def send_due() -> list[str]:
    """Beat, every minute: a sending task per channel, for deliveries whose task was lost
    (a broker restart) or whose retry time has come."""
    channels = [Channel.EMAIL, Channel.SMS]
    for channel in channels:
        send_queued.delay(channel=channel)
    return [str(channel) for channel in channels]
