"""Sending one delivery through its channel's provider. Called by the delivery task."""

from __future__ import annotations

from typing import Any

import structlog
from django.core.exceptions import ImproperlyConfigured
from django.db import transaction
from django.utils import timezone

from tessera.notifications.errors import PermanentDeliveryError, TransientDeliveryError
from tessera.notifications.mail import email_send
from tessera.notifications.models import Channel, Delivery
from tessera.notifications.sms import sms_provider_get

logger = structlog.get_logger("tessera.notifications")


def _provider_send(delivery: Delivery) -> str:
    if delivery.channel == Channel.SMS:
        return sms_provider_get().send(to=delivery.recipient, body=delivery.body)
    if delivery.channel == Channel.EMAIL:
        return email_send(to=delivery.recipient, subject=delivery.subject, body=delivery.body)
    raise PermanentDeliveryError(f"No provider sends {delivery.channel!r} deliveries.")


def _mark(delivery: Delivery, **changes: Any) -> Delivery:
    changes["updated_at"] = timezone.now()
    Delivery.objects.filter(pk=delivery.pk, status=Delivery.Status.QUEUED).update(**changes)
    delivery.refresh_from_db()
    return delivery


def delivery_send(*, delivery_id: Any, final_attempt: bool = False) -> Delivery | None:
    """Send a queued delivery once. Safe to run twice: a sent (or failed) one is left alone.

    A permanent provider error fails the delivery. A transient one is recorded and
    re-raised for the task to retry, unless this is the final attempt, which fails it.
    """
    with transaction.atomic():
        delivery = Delivery.objects.select_for_update().filter(pk=delivery_id).first()
        if delivery is None:
            logger.warning("delivery_missing", delivery_id=str(delivery_id))
            return None
        if delivery.status != Delivery.Status.QUEUED:
            logger.info("delivery_not_queued", delivery_id=str(delivery.pk), status=delivery.status)
            return delivery
        delivery.attempts += 1
        delivery.save(update_fields=["attempts", "updated_at"])

    log = logger.bind(
        delivery_id=str(delivery.pk),
        channel=delivery.channel,
        kind=delivery.kind,
        attempt=delivery.attempts,
    )
    try:
        message_id = _provider_send(delivery)
    except (PermanentDeliveryError, ImproperlyConfigured) as exc:
        log.warning("delivery_failed", error=str(exc))
        return _mark(delivery, status=Delivery.Status.FAILED, last_error=str(exc))
    except TransientDeliveryError as exc:
        if final_attempt:
            log.warning("delivery_failed_after_retries", error=str(exc))
            return _mark(delivery, status=Delivery.Status.FAILED, last_error=str(exc))
        log.info("delivery_will_retry", error=str(exc))
        _mark(delivery, last_error=str(exc))
        raise
    log.info("delivery_sent", provider_message_id=message_id)
    return _mark(
        delivery,
        status=Delivery.Status.SENT,
        sent_at=timezone.now(),
        provider_message_id=message_id,
        last_error="",
    )
