"""Sending queued deliveries through their channel's provider: one (`delivery_send`, the
task of a single message such as an OTP code) or in batches (`deliveries_send_queued`, the
workers behind `notify_many`).

Both claim a row the same way, so the two never send one message twice: under the row's
lock, a queued delivery whose `next_attempt_at` has come is taken by moving
`next_attempt_at` to the end of a lease (`NOTIFICATIONS_SEND_LEASE_SECONDS`). A worker that
dies mid-batch leaves its rows to be taken again once the lease ends: a message the
provider had already accepted then goes out again (at least once: providers offer no
idempotency key to prevent it), none is lost.
"""

from __future__ import annotations

import random
import time
from collections.abc import Callable, Iterator
from contextlib import contextmanager
from dataclasses import asdict, dataclass
from datetime import datetime, timedelta
from typing import Any

import structlog
from django.conf import settings
from django.core.exceptions import ImproperlyConfigured
from django.db import connection, transaction
from django.utils import timezone

from tessera.core import ratelimit
from tessera.notifications import bulk
from tessera.notifications.errors import (
    PermanentDeliveryError,
    RateLimitedDeliveryError,
    TransientDeliveryError,
)
from tessera.notifications.mail import email_send, mail_connection
from tessera.notifications.models import Channel, Delivery
from tessera.notifications.sms import sms_provider_get

logger = structlog.get_logger("tessera.notifications")


def _provider_send(delivery: Delivery) -> str:
    if delivery.channel == Channel.SMS:
        with sms_provider_get() as provider:
            return provider.send(to=delivery.recipient, body=delivery.body)
    if delivery.channel == Channel.EMAIL:
        return email_send(to=delivery.recipient, subject=delivery.subject, body=delivery.body)
    raise PermanentDeliveryError(f"No provider sends {delivery.channel!r} deliveries.")


def _lease() -> timedelta:
    return timedelta(seconds=settings.NOTIFICATIONS_SEND_LEASE_SECONDS)


def _mark(delivery: Delivery, **changes: Any) -> Delivery:
    changes["updated_at"] = timezone.now()
    Delivery.objects.filter(pk=delivery.pk, status=Delivery.Status.QUEUED).update(**changes)
    delivery.refresh_from_db()
    return delivery


def delivery_send(*, delivery_id: Any, final_attempt: bool = False) -> Delivery | None:
    """Send a queued delivery once. Safe to run twice: a sent (or failed) one is left alone,
    and so is one a batch worker holds.

    A permanent provider error fails the delivery. A transient one is recorded and
    re-raised for the task to retry, unless this is the final attempt, which fails it.
    """
    now = timezone.now()
    with transaction.atomic():
        delivery = Delivery.objects.select_for_update().filter(pk=delivery_id).first()
        if delivery is None:
            logger.warning("delivery_missing", delivery_id=str(delivery_id))
            return None
        if delivery.status != Delivery.Status.QUEUED:
            logger.info("delivery_not_queued", delivery_id=str(delivery.pk), status=delivery.status)
            return delivery
        if delivery.next_attempt_at > now:
            logger.info("delivery_held", delivery_id=str(delivery.pk))
            return delivery
        delivery.attempts += 1
        delivery.next_attempt_at = now + _lease()
        delivery.save(update_fields=["attempts", "next_attempt_at", "updated_at"])

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
        # The lease ends now: the task's retry, or a batch worker, may take it again.
        _mark(delivery, last_error=str(exc), next_attempt_at=timezone.now())
        raise
    log.info("delivery_sent", provider_message_id=message_id)
    return _mark(
        delivery,
        status=Delivery.Status.SENT,
        sent_at=timezone.now(),
        provider_message_id=message_id,
        last_error="",
    )


# --- batches ------------------------------------------------------------------------------


@dataclass
class SendReport:
    """What one run of `deliveries_send_queued` did. `more`: due deliveries remain (the
    time budget or the limit ended the run); `retry_in`: a rate limit paused the channel
    for this many seconds."""

    claimed: int = 0
    sent: int = 0
    failed: int = 0
    deferred: int = 0
    more: bool = False
    retry_in: float | None = None

    def as_dict(self) -> dict[str, Any]:
        return asdict(self)


def retry_delay(attempts: int) -> float:
    """Seconds before the next try after `attempts` tries: exponential, capped, jittered
    (a half to the whole of the step, so that a burst of failures spreads out)."""
    base = settings.NOTIFICATIONS_SEND_RETRY_BASE_SECONDS
    step = min(settings.NOTIFICATIONS_SEND_RETRY_MAX_SECONDS, base * 2 ** max(0, attempts - 1))
    return float(step * random.uniform(0.5, 1.0))


def _claim(*, channel: str, size: int, now: datetime) -> list[Delivery]:
    """Take up to `size` due deliveries of `channel`, oldest first, for one lease. Rows
    another worker is taking are skipped (SKIP LOCKED), never waited for."""
    with transaction.atomic():
        ids = list(
            Delivery.objects.select_for_update(skip_locked=True)
            .filter(status=Delivery.Status.QUEUED, channel=channel, next_attempt_at__lte=now)
            .order_by("id")
            .values_list("pk", flat=True)[:size]
        )
        if not ids:
            return []
        Delivery.objects.filter(pk__in=ids).update(next_attempt_at=now + _lease(), updated_at=now)
    return list(Delivery.objects.filter(pk__in=ids).order_by("id"))


def _release(deliveries: list[Delivery], *, after: float) -> None:
    """Give claimed deliveries back untried, to be taken again in `after` seconds."""
    if deliveries:
        now = timezone.now()
        Delivery.objects.filter(
            pk__in=[d.pk for d in deliveries], status=Delivery.Status.QUEUED
        ).update(next_attempt_at=now + timedelta(seconds=after), updated_at=now)


@contextmanager
def _sender(channel: str) -> Iterator[Callable[[Delivery], str]]:
    """A function sending one delivery of `channel`, over one connection for the batch."""
    if channel == Channel.EMAIL:
        connection = mail_connection()
        try:
            yield lambda d: email_send(
                to=d.recipient, subject=d.subject, body=d.body, connection=connection
            )
        finally:
            connection.close()
    elif channel == Channel.SMS:
        with sms_provider_get() as provider:
            yield lambda d: provider.send(to=d.recipient, body=d.body)
    else:
        raise PermanentDeliveryError(f"No provider sends {channel!r} deliveries.")


def _send_rate(channel: str) -> str:
    rates: dict[str, str] = {
        Channel.EMAIL: settings.NOTIFICATIONS_EMAIL_SEND_RATE,
        Channel.SMS: settings.NOTIFICATIONS_SMS_SEND_RATE,
    }
    return rates.get(channel, "")


class _Outcomes:
    """The result of each message of a batch, written together: one statement (one round
    trip, one commit) per batch on PostgreSQL instead of one per message."""

    _FIELDS = ("status", "attempts", "last_error", "next_attempt_at", "sent_at")

    def __init__(self, report: SendReport) -> None:
        self.report = report
        self.done: list[Delivery] = []

    def record(self, delivery: Delivery, **changes: Any) -> None:
        for name, value in changes.items():
            setattr(delivery, name, value)
        self.done.append(delivery)

    def flush(self) -> None:
        done, self.done = self.done, []
        if not done:
            return
        now = timezone.now()
        if connection.vendor != "postgresql":
            with transaction.atomic():
                for d in done:
                    Delivery.objects.filter(pk=d.pk, status=Delivery.Status.QUEUED).update(
                        **{name: getattr(d, name) for name in self._FIELDS},
                        provider_message_id=d.provider_message_id,
                        updated_at=now,
                    )
            return
        bulk.execute(
            "UPDATE notifications_delivery AS d SET status = v.status, attempts = v.attempts, "
            "last_error = v.last_error, next_attempt_at = v.next_attempt_at, "
            "sent_at = v.sent_at, provider_message_id = v.provider_message_id, "
            "updated_at = %s "
            "FROM unnest(%s::uuid[], %s::text[], %s::int[], %s::text[], %s::timestamptz[], "
            "%s::timestamptz[], %s::text[]) "
            "AS v(id, status, attempts, last_error, next_attempt_at, sent_at, "
            "provider_message_id) "
            "WHERE d.id = v.id AND d.status = 'queued'",
            [
                now,
                [d.pk for d in done],
                [str(d.status) for d in done],
                [d.attempts for d in done],
                [d.last_error for d in done],
                [d.next_attempt_at for d in done],
                [d.sent_at for d in done],
                [d.provider_message_id for d in done],
            ],
        )


def _after(seconds: float) -> datetime:
    return timezone.now() + timedelta(seconds=seconds)


def _outcome(
    delivery: Delivery, send: Callable[[Delivery], str], outcomes: _Outcomes
) -> float | None:
    """Try one delivery and record how it went; a provider's rate limit returns the pause
    it asks for. Nothing raised here stops the batch."""
    report = outcomes.report
    attempts = delivery.attempts + 1
    log = logger.bind(
        delivery_id=str(delivery.pk), channel=delivery.channel, kind=delivery.kind, attempt=attempts
    )
    try:
        message_id = send(delivery)
    except RateLimitedDeliveryError as exc:
        pause = exc.retry_after or float(settings.NOTIFICATIONS_SEND_RETRY_BASE_SECONDS)
        log.info("delivery_rate_limited", error=str(exc), retry_in=pause)
        outcomes.record(delivery, last_error=str(exc), next_attempt_at=_after(pause))
        report.deferred += 1
        return pause
    except (PermanentDeliveryError, ImproperlyConfigured) as exc:
        log.warning("delivery_failed", error=str(exc))
        outcomes.record(
            delivery, status=Delivery.Status.FAILED, attempts=attempts, last_error=str(exc)
        )
        report.failed += 1
        return None
    except Exception as exc:  # a transient error, or a bug: this one waits
        error = str(exc) if isinstance(exc, TransientDeliveryError) else repr(exc)
        if not isinstance(exc, TransientDeliveryError):
            log.exception("delivery_error")
        if attempts >= settings.NOTIFICATIONS_SEND_MAX_ATTEMPTS:
            log.warning("delivery_failed_after_retries", error=error)
            outcomes.record(
                delivery, status=Delivery.Status.FAILED, attempts=attempts, last_error=error
            )
            report.failed += 1
        else:
            log.info("delivery_will_retry", error=error)
            outcomes.record(
                delivery,
                attempts=attempts,
                last_error=error,
                next_attempt_at=_after(retry_delay(attempts)),
            )
            report.deferred += 1
        return None
    log.info("delivery_sent", provider_message_id=message_id)
    outcomes.record(
        delivery,
        status=Delivery.Status.SENT,
        attempts=attempts,
        sent_at=timezone.now(),
        provider_message_id=message_id,
        last_error="",
    )
    report.sent += 1
    return None


def _send_batch(channel: str, claimed: list[Delivery], report: SendReport) -> float | None:
    """Send one claimed batch; return a pause when a rate limit stopped it. The outcomes
    are written together at the end (a worker killed before that sends the batch's messages
    again once the lease ends: at least once, never lost)."""
    rate = _send_rate(channel)
    outcomes = _Outcomes(report)
    try:
        with _sender(channel) as send:
            for index, delivery in enumerate(claimed):
                if rate:
                    decision = ratelimit.hit(rate, "notifications.send", channel)
                    if not decision.allowed:
                        _release(claimed[index:], after=decision.retry_after)
                        report.deferred += len(claimed) - index
                        return float(decision.retry_after)
                pause = _outcome(delivery, send, outcomes)
                if pause is not None:
                    _release(claimed[index + 1 :], after=pause)
                    report.deferred += len(claimed) - index - 1
                    return pause
    except (PermanentDeliveryError, ImproperlyConfigured) as exc:
        # The provider cannot be set up at all (no credentials): nothing it holds can go.
        logger.warning("delivery_channel_unusable", channel=channel, error=str(exc))
        ids = [d.pk for d in claimed]
        report.failed += Delivery.objects.filter(pk__in=ids, status=Delivery.Status.QUEUED).update(
            status=Delivery.Status.FAILED, last_error=str(exc), updated_at=timezone.now()
        )
    except TransientDeliveryError as exc:
        pause = float(settings.NOTIFICATIONS_SEND_RETRY_BASE_SECONDS)
        logger.info("delivery_channel_unreachable", channel=channel, error=str(exc))
        _release(claimed, after=pause)
        report.deferred += len(claimed)
        return pause
    finally:
        outcomes.flush()
    return None


def deliveries_send_queued(
    *,
    channel: str,
    batch_size: int | None = None,
    time_budget_seconds: float | None = None,
    limit: int | None = None,
) -> SendReport:
    """Send the due queued deliveries of `channel`, oldest first, in claimed batches, until
    none is due, `limit` are claimed, the time budget is spent or a rate limit (ours:
    `NOTIFICATIONS_<CHANNEL>_SEND_RATE` across all workers, or the provider's 429) pauses
    the channel. A failed address is recorded on its row (failed, or retried later with
    backoff and jitter, up to `NOTIFICATIONS_SEND_MAX_ATTEMPTS` tries) and never stops the
    batch. Safe to run in any number of workers at once."""
    size = batch_size or settings.NOTIFICATIONS_SEND_BATCH_SIZE
    budget = (
        settings.NOTIFICATIONS_SEND_TIME_BUDGET_SECONDS
        if time_budget_seconds is None
        else time_budget_seconds
    )
    deadline = time.monotonic() + budget
    report = SendReport()
    while True:
        if (limit is not None and report.claimed >= limit) or time.monotonic() >= deadline:
            report.more = Delivery.objects.filter(
                status=Delivery.Status.QUEUED, channel=channel, next_attempt_at__lte=timezone.now()
            ).exists()
            return report
        wanted = size if limit is None else min(size, limit - report.claimed)
        claimed = _claim(channel=channel, size=wanted, now=timezone.now())
        if not claimed:
            return report
        report.claimed += len(claimed)
        pause = _send_batch(channel, claimed, report)
        if pause is not None:
            report.retry_in = pause
            return report
