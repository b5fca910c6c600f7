"""The webhook inbox: take a delivery (store raw, verify, enqueue), process it once."""

from __future__ import annotations

import hashlib
import random
from collections.abc import Mapping
from dataclasses import dataclass, field
from datetime import timedelta
from typing import Any

import structlog
from django.conf import settings
from django.db import IntegrityError, connection, transaction
from django.db.models import F, Q
from django.utils.translation import gettext as _

from tessera.core.jobs import drain_on_commit
from tessera.payments import metrics
from tessera.payments.errors import PaymentsErrorCode, WebhookRejectedError
from tessera.payments.models import (
    DeliveryState,
    PaymentOrder,
    Payout,
    SignatureVerdict,
    WebhookDelivery,
)
from tessera.payments.providers import ProviderEvent, provider_get, webhook_provider
from tessera.payments.providers.base import (
    EVENT_CHARGEBACK,
    EVENT_OTHER,
    EVENT_PAYOUT,
    EVENT_PURCHASE,
    EVENT_REFUND,
)
from tessera.payments.providers.signing import SignatureError
from tessera.payments.services.common import UnknownObjectError, as_uuid, now
from tessera.payments.services.orders import order_apply_event
from tessera.payments.services.payouts import payout_apply_event

logger = structlog.get_logger("tessera.payments.webhooks")

# A gateway's clock and ours may differ a little; a body dated further ahead is refused.
FUTURE_TOLERANCE = timedelta(minutes=5)
KEPT_HEADERS_MAX = 40
DROPPED_HEADERS = {"authorization", "cookie", "proxy-authorization"}
# A delivery whose task has not run this long after it was due is sent again (sweep).
LOST_AFTER = timedelta(seconds=60)
DRAIN_NAME = "payments.webhooks"


@dataclass(frozen=True)
class WebhookReceipt:
    delivery_id: Any
    duplicate: bool
    state: str


def _kept_headers(headers: Mapping[str, str]) -> dict[str, str]:
    kept: dict[str, str] = {}
    for name, value in headers.items():
        if name.lower() in DROPPED_HEADERS:
            continue
        kept[name] = str(value)[:1000]
        if len(kept) >= KEPT_HEADERS_MAX:
            break
    return kept


def _commit_without_waiting_for_the_disk() -> None:
    """The inbox row is a copy of what the gateway holds: on PostgreSQL its commit does not
    wait for the WAL flush (PAYMENTS_WEBHOOK_ASYNC_COMMIT). A database crash in the next few
    hundred milliseconds could lose an acknowledged delivery; reconciliation asks the gateway
    about every order and payout still open after an hour, so the event is late, not lost.
    Everything that moves money commits synchronously."""
    if settings.PAYMENTS_WEBHOOK_ASYNC_COMMIT and connection.vendor == "postgresql":
        with connection.cursor() as cursor:
            cursor.execute("SET LOCAL synchronous_commit TO OFF")


def _refuse(verdict: str) -> WebhookRejectedError:
    if verdict == SignatureVerdict.MISSING:
        return WebhookRejectedError(
            verdict=verdict,
            code=PaymentsErrorCode.WEBHOOK_SIGNATURE_MISSING,
            status_code=401,
            message=_("The delivery has no X-Signature header."),
        )
    if verdict == SignatureVerdict.INVALID:
        return WebhookRejectedError(
            verdict=verdict,
            code=PaymentsErrorCode.WEBHOOK_SIGNATURE_INVALID,
            status_code=401,
            message=_("The signature does not match the body."),
        )
    if verdict == SignatureVerdict.STALE:
        return WebhookRejectedError(
            verdict=verdict,
            code=PaymentsErrorCode.WEBHOOK_STALE,
            status_code=400,
            message=_("The event is too old (or dated in the future) to be accepted."),
        )
    return WebhookRejectedError(
        verdict=verdict,
        code=PaymentsErrorCode.WEBHOOK_MALFORMED,
        status_code=400,
        message=_("The delivery is not an event this endpoint understands."),
    )


def _verdict(provider: Any, body: bytes, headers: Mapping[str, str]) -> tuple[str, Any]:
    try:
        provider.webhook_verify(body, headers)
    except SignatureError as exc:
        return (
            SignatureVerdict.MISSING
            if exc.verdict == "missing"
            else SignatureVerdict.MALFORMED
            if exc.verdict == "malformed"
            else SignatureVerdict.INVALID
        ), None
    try:
        event: ProviderEvent = provider.webhook_parse(body)
    except ValueError:
        return SignatureVerdict.MALFORMED, None
    moment = now()
    occurred = event.occurred_at
    max_age = timedelta(seconds=settings.PAYMENTS_WEBHOOK_MAX_AGE_SECONDS)
    if occurred is None or occurred < moment - max_age or occurred > moment + FUTURE_TOLERANCE:
        return SignatureVerdict.STALE, event
    return SignatureVerdict.VALID, event


def webhook_receive(*, provider_name: str, body: bytes, headers: Mapping[str, str]) -> Any:
    """Keep one delivery and say how to answer. A validly signed, fresh, new event is stored
    `received` and its processing enqueued after the commit; the same event again is stored
    as a `duplicate` of the first and not processed; anything else is stored `rejected` and
    refused (WebhookRejectedError: 401 unsigned or forged, 400 malformed or stale). Returns a
    WebhookReceipt, or None when no such provider takes webhooks here (404)."""
    provider = webhook_provider(provider_name)
    if provider is None:
        return None
    digest = hashlib.sha256(body).hexdigest()
    verdict, event = _verdict(provider, body, headers)
    common = {
        "provider": provider.name,
        "body": body,
        "body_sha256": digest,
        "headers": _kept_headers(headers),
        "signature_verdict": verdict,
        "event_id": getattr(event, "event_id", "")[:200],
        "event_type": getattr(event, "event_type", "")[:100],
    }
    if verdict != SignatureVerdict.VALID:
        with transaction.atomic():
            _commit_without_waiting_for_the_disk()
            WebhookDelivery.objects.create(state=DeliveryState.REJECTED, **common)
        metrics.webhook_received(provider.name, verdict)
        logger.warning("webhook_rejected", provider=provider.name, verdict=verdict, sha256=digest)
        raise _refuse(verdict)
    state = DeliveryState.IGNORED if event.kind == EVENT_OTHER else DeliveryState.RECEIVED
    try:
        with transaction.atomic():
            _commit_without_waiting_for_the_disk()
            delivery = WebhookDelivery.objects.create(
                state=state,
                accepted=True,
                next_attempt_at=now() if state == DeliveryState.RECEIVED else None,
                processed_at=now() if state == DeliveryState.IGNORED else None,
                outcome=""
                if state == DeliveryState.RECEIVED
                else "ignored: not an event Tessera acts on",
                **common,
            )
            if state == DeliveryState.RECEIVED:
                _drain_after_commit()
    except IntegrityError:
        return _duplicate(common)
    metrics.webhook_received(provider.name, "valid")
    return WebhookReceipt(delivery_id=delivery.pk, duplicate=False, state=state)


def _duplicate(common: dict[str, Any]) -> WebhookReceipt:
    match = Q(provider=common["provider"], accepted=True) & (
        Q(body_sha256=common["body_sha256"]) | (Q(event_id=common["event_id"]) & ~Q(event_id=""))
    )
    original = WebhookDelivery.objects.filter(match).first()
    with transaction.atomic():
        _commit_without_waiting_for_the_disk()
        duplicate = WebhookDelivery.objects.create(
            state=DeliveryState.DUPLICATE, duplicate_of=original, **common
        )
    metrics.webhook_received(common["provider"], "duplicate")
    if (
        original is not None
        and original.state == DeliveryState.RECEIVED
        and original.next_attempt_at is not None
        and original.next_attempt_at < now() - LOST_AFTER
    ):
        # The gateway sent it again because the first was never processed: nudge it.
        _enqueue_after_commit(original.pk)
    return WebhookReceipt(delivery_id=duplicate.pk, duplicate=True, state=DeliveryState.DUPLICATE)


def _drain_after_commit() -> None:
    """A drain (`webhooks_drain`) runs soon after the commit: at most
    `PAYMENTS_WEBHOOK_DRAINS` are queued or running at once, however many deliveries come."""
    from tessera.payments.tasks import drain_webhooks

    drain_on_commit(drain_webhooks, name=DRAIN_NAME, slots=settings.PAYMENTS_WEBHOOK_DRAINS)


def _enqueue_after_commit(delivery_id: Any) -> None:
    from tessera.payments.tasks import process_webhook

    def send() -> None:
        try:
            process_webhook.apply_async(kwargs={"delivery_id": str(delivery_id)})
        except Exception:
            logger.exception("webhook_enqueue_failed", delivery_id=str(delivery_id))

    transaction.on_commit(send)


def event_apply(*, provider_name: str, event: ProviderEvent, delivery: Any = None) -> str:
    """Apply one verified event to the order or payout it names; returns what was done."""
    if event.kind in (EVENT_PURCHASE, EVENT_REFUND, EVENT_CHARGEBACK):
        order_id = (
            PaymentOrder.objects.filter(
                provider=provider_name, provider_purchase_id=event.object_id
            )
            .values_list("pk", flat=True)
            .first()
        )
        reference = as_uuid(event.reference)
        if order_id is None and reference is not None and event.kind == EVENT_PURCHASE:
            order_id = (
                PaymentOrder.objects.filter(pk=reference, provider=provider_name)
                .filter(
                    Q(provider_purchase_id__isnull=True) | Q(provider_purchase_id=event.object_id)
                )
                .values_list("pk", flat=True)
                .first()
            )
        if order_id is None:
            raise UnknownObjectError(f"no order for {provider_name} purchase {event.object_id}")
        return order_apply_event(order_id=order_id, event=event, delivery=delivery)
    if event.kind == EVENT_PAYOUT:
        payout_id = (
            Payout.objects.filter(provider=provider_name, provider_payout_id=event.object_id)
            .values_list("pk", flat=True)
            .first()
        )
        reference = as_uuid(event.reference)
        if payout_id is None and reference is not None:
            payout_id = (
                Payout.objects.filter(pk=reference, provider=provider_name)
                .filter(Q(provider_payout_id__isnull=True) | Q(provider_payout_id=event.object_id))
                .values_list("pk", flat=True)
                .first()
            )
        if payout_id is None:
            raise UnknownObjectError(f"no payout for {provider_name} payout {event.object_id}")
        return payout_apply_event(payout_id=payout_id, event=event, delivery=delivery)
    return f"ignored: {event.event_type}"


def webhook_process(*, delivery_id: Any) -> str:
    """Process one received delivery, once: under its row lock, in one transaction with
    the order or payout it moves and the product's handler. A second run (a redelivered task)
    finds it processed and does nothing."""
    with transaction.atomic():
        delivery = WebhookDelivery.objects.select_for_update().filter(pk=delivery_id).first()
        if delivery is None:
            return "missing"
        if delivery.state != DeliveryState.RECEIVED:
            return f"already {delivery.state}"
        return _process_locked(delivery)


def _process_locked(delivery: WebhookDelivery) -> str:
    """Apply a received delivery held under its row lock, inside the caller's transaction."""
    provider = provider_get(delivery.provider)
    event = provider.webhook_parse(bytes(delivery.body))
    outcome = event_apply(provider_name=delivery.provider, event=event, delivery=delivery)
    moment = now()
    state = DeliveryState.IGNORED if outcome.startswith("ignored") else DeliveryState.PROCESSED
    # One UPDATE of what changed, not a save() of the whole row (its body included).
    WebhookDelivery.objects.filter(pk=delivery.pk).update(
        state=state,
        processed_at=moment,
        attempts=F("attempts") + 1,
        outcome=outcome[:300],
        last_error="",
        next_attempt_at=None,
        updated_at=moment,
    )
    lag = (moment - delivery.created_at).total_seconds()
    provider_name = delivery.provider
    transaction.on_commit(lambda: metrics.webhook_processed(provider_name, lag))
    return outcome


@dataclass
class DrainResult:
    processed: int = 0
    failed: int = 0
    # (delivery id, seconds until its next attempt) of each failure that is not final.
    retries: list[tuple[str, float]] = field(default_factory=list)


def _next_due_locked() -> WebhookDelivery | None:
    """The oldest received delivery due now that no other drain holds, locked. A delivery
    never attempted is due whatever its clock says (the intake's clock may run a little
    ahead of this worker's); one that failed waits for its backoff."""
    return (
        WebhookDelivery.objects.select_for_update(skip_locked=True)
        .filter(state=DeliveryState.RECEIVED)
        .filter(Q(attempts=0) | Q(next_attempt_at__lte=now()))
        .order_by("next_attempt_at")
        .first()
    )


def webhooks_drain(*, limit: int = 1000) -> DrainResult:
    """Process due received deliveries one after another, each with `webhook_process`'s
    logic in its own transaction, until none is left or `limit` were taken. Each is claimed
    with `SELECT … FOR UPDATE SKIP LOCKED`, so drains running at once never take the same
    delivery and never wait for each other. A failure is counted on the delivery
    (`webhook_record_failure`: backoff, then the dead letter) and never stops the drain; the
    caller schedules the retries it returns."""
    result = DrainResult()
    while result.processed + result.failed < limit:
        claimed: list[Any] = []
        try:
            with transaction.atomic():
                delivery = _next_due_locked()
                if delivery is None:
                    break
                claimed.append(delivery.pk)
                _process_locked(delivery)
            result.processed += 1
        except Exception as exc:
            if not claimed:
                raise
            result.failed += 1
            retry_in = webhook_record_failure(delivery_id=claimed[0], error=exc)
            if retry_in is not None:
                result.retries.append((str(claimed[0]), retry_in))
    return result


def webhook_record_failure(*, delivery_id: Any, error: BaseException) -> float | None:
    """Count a failed attempt. Returns the seconds until the next one (exponential backoff
    with jitter), or None once `PAYMENTS_WEBHOOK_MAX_ATTEMPTS` is reached: the delivery is
    then `failed`, the dead letter the admin lists with a replay action."""
    message = f"{type(error).__name__}: {error}"[:5000]
    with transaction.atomic():
        delivery = WebhookDelivery.objects.select_for_update().filter(pk=delivery_id).first()
        if delivery is None or delivery.state != DeliveryState.RECEIVED:
            return None
        delivery.attempts += 1
        delivery.last_error = message
        if delivery.attempts >= settings.PAYMENTS_WEBHOOK_MAX_ATTEMPTS:
            delivery.state = DeliveryState.FAILED
            delivery.next_attempt_at = None
            delay = None
            logger.error(
                "webhook_dead_lettered",
                delivery_id=str(delivery.pk),
                provider=delivery.provider,
                event_type=delivery.event_type,
                error=message,
            )
        else:
            delay = min(600.0, 2.0**delivery.attempts) * (0.5 + random.random() / 2)
            delivery.next_attempt_at = now() + timedelta(seconds=delay)
            logger.warning(
                "webhook_processing_failed",
                delivery_id=str(delivery.pk),
                attempt=delivery.attempts,
                error=message,
            )
        delivery.save(
            update_fields=["attempts", "last_error", "state", "next_attempt_at", "updated_at"]
        )
    metrics.webhook_failed(delivery.provider, dead=delay is None)
    return delay


def webhook_replay(*, delivery_ids: list[Any], actor: Any = None) -> int:
    """Send dead-lettered deliveries through processing again (the admin's action)."""
    from tessera.audit.services import audit_record

    replayed = 0
    with transaction.atomic():
        for delivery in WebhookDelivery.objects.select_for_update().filter(
            pk__in=delivery_ids, state=DeliveryState.FAILED, accepted=True
        ):
            delivery.state = DeliveryState.RECEIVED
            delivery.attempts = 0
            delivery.next_attempt_at = now()
            delivery.save(update_fields=["state", "attempts", "next_attempt_at", "updated_at"])
            audit_record(
                action="payments.webhook.replayed",
                actor=actor,
                target=delivery,
                changes={
                    "event_type": delivery.event_type,
                    "last_error": delivery.last_error[:500],
                },
            )
            _enqueue_after_commit(delivery.pk)
            replayed += 1
    return replayed


def webhooks_lost(*, limit: int = 500) -> list[str]:
    """Received deliveries whose processing is overdue (their task was lost)."""
    cutoff = now() - LOST_AFTER
    return [
        str(pk)
        for pk in WebhookDelivery.objects.filter(
            state=DeliveryState.RECEIVED, next_attempt_at__lte=cutoff
        )
        .order_by("next_attempt_at")
        .values_list("pk", flat=True)[:limit]
    ]
