"""Thin Celery tasks over the notification services."""

from __future__ import annotations

import math
from typing import Any

from celery import shared_task

from tessera.core.jobs import TRANSIENT_ERRORS, TesseraTask, drain_release
from tessera.notifications.errors import TransientDeliveryError
from tessera.notifications.models import Channel
from tessera.notifications.sending import SendReport, deliveries_send_queued, delivery_send


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


def sending_drain_name(channel: str) -> str:
    return f"notifications.send.{channel}"


@shared_task(base=TesseraTask, bind=True, name="notifications.send_queued")
def send_queued(
    self: Any, channel: str, slot: int | None = None, slot_token: str | None = None
) -> dict[str, Any]:
    """Send `channel`'s due deliveries in batches (scheduled after `notify_many` commits, at
    most one at a time: `slot` is its marker, freed when done if `slot_token` still holds
    it, then what is due looked at once more so nothing written meanwhile waits for beat).

    Hands over to a fresh task when its time budget is spent, and when a rate limit
    pauses the channel schedules one for when it may go on. Retries of single messages
    that failed for a while are picked up by `send_due`, every minute."""
    try:
        report = deliveries_send_queued(channel=channel)
    finally:
        drain_release(name=sending_drain_name(channel), slot=slot, token=slot_token)
    if slot is not None and report.retry_in is None and not report.more:
        later = deliveries_send_queued(channel=channel)
        report = SendReport(
            claimed=report.claimed + later.claimed,
            sent=report.sent + later.sent,
            failed=report.failed + later.failed,
            deferred=report.deferred + later.deferred,
            more=later.more,
            retry_in=later.retry_in,
        )
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
