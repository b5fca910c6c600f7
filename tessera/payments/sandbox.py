"""The sandbox gateway: what Revio does, run by Tessera itself, so that every money flow works
on a laptop. It keeps its own records (SandboxPurchase, SandboxPayout), serves a checkout
page (/sandbox/checkout/<id>, views.py) where a person pays, fails or cancels, settles
payouts after `PAYMENTS_SANDBOX_PAYOUT_DELAY_SECONDS` (a payout to the account number
`PAYMENTS_SANDBOX_FAILING_ACCOUNT` fails), and sends webhooks in Revio's format, signed with
its own RSA key (`PAYMENTS_SANDBOX_PRIVATE_KEY`, or a key generated once into
TESSERA_VAR_DIR), retried with exponential backoff by the task queue until the receiver
answers 2xx.

This module is the gateway's side; `providers/sandbox.py` is Tessera's adapter to it.
"""

from __future__ import annotations

import uuid
from datetime import datetime, timedelta
from typing import Any

import httpx
import structlog
from django.conf import settings
from django.db import IntegrityError, transaction
from django.utils import timezone

from config.settings.env import VAR_DIR
from tessera.core.jobs import enqueue_on_commit
from tessera.payments.errors import SandboxPurchaseClosedError
from tessera.payments.models import (
    SandboxPayout,
    SandboxPayoutStatus,
    SandboxPurchase,
    SandboxPurchaseStatus,
    SandboxWebhook,
)
from tessera.payments.providers import signing, wire

logger = structlog.get_logger("tessera.payments.sandbox")

KEY_FILE_NAME = "payments-sandbox-key.pem"
ACTIONS = {
    "pay": (SandboxPurchaseStatus.PAID, "paid"),
    "fail": (SandboxPurchaseStatus.ERROR, "failed"),
    "cancel": (SandboxPurchaseStatus.CANCELLED, "cancelled"),
}
DELIVERY_TIMEOUT_SECONDS = 10.0
# How deliveries travel: None is the network. The test suite routes them into the WSGI app
# in-process (httpx.WSGITransport), the same HTTP request without a socket.
http_transport: httpx.BaseTransport | None = None


class SandboxDeliveryError(Exception):
    """The receiver did not take a webhook (network error or a non-2xx answer): retry."""


# --- Keys -----------------------------------------------------------------------------------


def private_key_pem() -> str:
    if settings.PAYMENTS_SANDBOX_PRIVATE_KEY:
        return str(settings.PAYMENTS_SANDBOX_PRIVATE_KEY)
    return signing.key_file_load_or_create(VAR_DIR / KEY_FILE_NAME)


def public_key_pem() -> str:
    # Both derivations are cached by the private key's text (`signing`'s lru_caches): no RSA
    # parse per webhook, and a changed setting or key file gives its own key at once.
    return signing.public_key_of_private_pem(private_key_pem())


def sign(body: bytes) -> str:
    return signing.sign(body, signing.private_key_from_pem(private_key_pem()))


def event_name(meaning: str) -> str:
    """The first configured event name for a meaning: the sandbox speaks what Tessera hears."""
    return str(settings.REVIO_EVENT_NAMES[meaning]).split(";")[0].strip()


def _unix(moment: datetime) -> int:
    return int(moment.timestamp())


# --- Purchases ------------------------------------------------------------------------------


def purchase_payload(purchase: SandboxPurchase) -> dict[str, Any]:
    """The purchase as Revio's API and webhooks show it."""
    return {
        "id": str(purchase.pk),
        "type": "purchase",
        "brand_id": "sandbox",
        "status": purchase.status,
        "reference": purchase.reference,
        "is_test": True,
        "client": {"email": purchase.client_email},
        "purchase": {
            "currency": purchase.currency,
            "total": purchase.amount_minor,
            "language": purchase.language,
            "products": [{"name": purchase.description, "price": purchase.amount_minor}],
        },
        "status_history": purchase.status_history,
        "refund_availability": "all" if purchase.status == SandboxPurchaseStatus.PAID else "none",
        "checkout_url": checkout_url(purchase),
        "success_redirect": purchase.success_redirect,
        "failure_redirect": purchase.failure_redirect,
        "success_callback": purchase.callback_url,
        "due": _unix(purchase.due),
        "created_on": _unix(purchase.created_at),
        "updated_on": _unix(purchase.updated_at),
    }


def checkout_url(purchase: SandboxPurchase) -> str:
    return f"{settings.PAYMENTS_PUBLIC_URL}/sandbox/checkout/{purchase.pk}"


def purchase_create(
    *,
    idempotency_key: str,
    reference: str,
    amount_minor: int,
    currency: str,
    description: str,
    client_email: str,
    language: str,
    success_redirect: str,
    failure_redirect: str,
    callback_url: str,
    due: datetime,
) -> SandboxPurchase:
    """A checkout; the same idempotency key returns the same one."""
    existing = SandboxPurchase.objects.filter(idempotency_key=idempotency_key).first()
    if existing is not None:
        return existing
    now = timezone.now()
    try:
        with transaction.atomic():
            return SandboxPurchase.objects.create(
                idempotency_key=idempotency_key,
                reference=reference,
                amount_minor=amount_minor,
                currency=currency,
                description=description[:200],
                client_email=client_email[:254],
                language=language,
                success_redirect=success_redirect,
                failure_redirect=failure_redirect,
                callback_url=callback_url,
                due=due,
                status_history=[{"status": "created", "timestamp": _unix(now)}],
            )
    except IntegrityError:
        return SandboxPurchase.objects.get(idempotency_key=idempotency_key)


def purchase_get(*, purchase_id: Any) -> SandboxPurchase | None:
    try:
        key = uuid.UUID(str(purchase_id))
    except ValueError:
        return None
    return SandboxPurchase.objects.filter(pk=key).first()


def _move(purchase: SandboxPurchase, status: str, now: datetime) -> None:
    purchase.status = status
    purchase.status_history = [
        *purchase.status_history,
        {"status": status, "timestamp": _unix(now)},
    ]
    purchase.save(update_fields=["status", "status_history", "updated_at"])


def purchase_act(*, purchase_id: Any, action: str) -> SandboxPurchase:
    """What the person does on the checkout page: pay, fail or cancel. Doing the same again
    changes nothing; anything else on a closed checkout is refused."""
    target, meaning = ACTIONS[action]
    with transaction.atomic():
        purchase = SandboxPurchase.objects.select_for_update().get(pk=purchase_id)
        now = timezone.now()
        if purchase.status == SandboxPurchaseStatus.CREATED and now >= purchase.due:
            _move(purchase, SandboxPurchaseStatus.EXPIRED, now)
            webhook_emit_purchase(purchase, meaning="expired")
            return purchase
        if purchase.status == target:
            return purchase
        if purchase.status != SandboxPurchaseStatus.CREATED:
            raise SandboxPurchaseClosedError
        _move(purchase, target, now)
        webhook_emit_purchase(purchase, meaning=meaning)
    return purchase


def purchase_expire_if_due(*, purchase_id: Any) -> SandboxPurchase:
    with transaction.atomic():
        purchase = SandboxPurchase.objects.select_for_update().get(pk=purchase_id)
        now = timezone.now()
        if purchase.status == SandboxPurchaseStatus.CREATED and now >= purchase.due:
            _move(purchase, SandboxPurchaseStatus.EXPIRED, now)
            webhook_emit_purchase(purchase, meaning="expired")
    return purchase


def purchase_cancel(*, purchase_id: Any) -> SandboxPurchase:
    """The merchant cancels an unpaid checkout (`POST purchases/{id}/cancel/`)."""
    with transaction.atomic():
        purchase = SandboxPurchase.objects.select_for_update().get(pk=purchase_id)
        if purchase.status == SandboxPurchaseStatus.CREATED:
            _move(purchase, SandboxPurchaseStatus.CANCELLED, timezone.now())
            webhook_emit_purchase(purchase, meaning="cancelled")
        elif purchase.status != SandboxPurchaseStatus.CANCELLED:
            raise SandboxPurchaseClosedError
    return purchase


def purchase_refund(*, purchase_id: Any, amount_minor: int, idempotency_key: str) -> dict[str, Any]:
    """Refund part or all of a paid purchase; the same key returns the same refund."""
    with transaction.atomic():
        purchase = SandboxPurchase.objects.select_for_update().get(pk=purchase_id)
        for refund in purchase.refunds:
            if refund["idempotency_key"] == idempotency_key:
                return dict(refund)
        if purchase.status not in (
            SandboxPurchaseStatus.PAID,
            SandboxPurchaseStatus.PARTIALLY_REFUNDED,
        ):
            raise SandboxPurchaseClosedError
        if amount_minor <= 0 or purchase.refunded_minor + amount_minor > purchase.amount_minor:
            raise ValueError("refund larger than what is left")
        now = timezone.now()
        refund = {
            "id": str(uuid.uuid4()),
            "idempotency_key": idempotency_key,
            "amount": amount_minor,
            "created_on": _unix(now),
        }
        purchase.refunds = [*purchase.refunds, refund]
        purchase.refunded_minor += amount_minor
        purchase.save(update_fields=["refunds", "refunded_minor", "updated_at"])
        fully = purchase.refunded_minor == purchase.amount_minor
        _move(
            purchase,
            SandboxPurchaseStatus.REFUNDED if fully else SandboxPurchaseStatus.PARTIALLY_REFUNDED,
            now,
        )
        webhook_emit(
            url=purchase.callback_url,
            object_id=refund["id"],
            payload={
                "event_type": event_name("refunded"),
                "id": refund["id"],
                "type": "payment",
                "payment_type": "refund",
                "is_test": True,
                "related_to": {"type": "purchase", "id": str(purchase.pk)},
                "payment": {"amount": amount_minor, "currency": purchase.currency},
                "created_on": refund["created_on"],
                "updated_on": refund["created_on"],
            },
        )
    return refund


# --- Payouts --------------------------------------------------------------------------------


def payout_payload(payout: SandboxPayout) -> dict[str, Any]:
    return {
        "id": str(payout.pk),
        "type": "payout",
        "status": payout.status,
        "reference": payout.reference,
        "amount": payout.amount_minor,
        "currency": payout.currency,
        "error": payout.error,
        "is_test": True,
        "created_on": _unix(payout.created_at),
        "updated_on": _unix(payout.updated_at),
    }


def payout_create(
    *,
    idempotency_key: str,
    reference: str,
    amount_minor: int,
    currency: str,
    account_number: str,
    callback_url: str,
) -> SandboxPayout:
    existing = SandboxPayout.objects.filter(idempotency_key=idempotency_key).first()
    if existing is not None:
        return existing
    delay = max(0.0, float(settings.PAYMENTS_SANDBOX_PAYOUT_DELAY_SECONDS))
    try:
        with transaction.atomic():
            payout = SandboxPayout.objects.create(
                idempotency_key=idempotency_key,
                reference=reference,
                amount_minor=amount_minor,
                currency=currency,
                account_masked=f"****{account_number[-4:]}",
                will_fail=account_number == settings.PAYMENTS_SANDBOX_FAILING_ACCOUNT,
                callback_url=callback_url,
                settle_at=timezone.now() + timedelta(seconds=delay),
            )
            from tessera.payments.tasks import sandbox_settle_payout

            transaction.on_commit(
                lambda: sandbox_settle_payout.apply_async(
                    kwargs={"payout_id": str(payout.pk)}, countdown=delay
                )
            )
            return payout
    except IntegrityError:
        return SandboxPayout.objects.get(idempotency_key=idempotency_key)


def payout_settle(*, payout_id: Any) -> SandboxPayout | None:
    """Settle the payout if it is due: success, or failure for the failing account number."""
    with transaction.atomic():
        payout = SandboxPayout.objects.select_for_update().filter(pk=payout_id).first()
        if payout is None or payout.status != SandboxPayoutStatus.PENDING:
            return payout
        now = timezone.now()
        if now < payout.settle_at:
            return payout
        if payout.will_fail:
            payout.status = SandboxPayoutStatus.FAILED
            payout.error = "Sandbox: the bank refused the account (the failing test account)."
        else:
            payout.status = SandboxPayoutStatus.SUCCESS
        payout.settled_at = now
        payout.save(update_fields=["status", "error", "settled_at", "updated_at"])
        meaning = "payout_failed" if payout.will_fail else "payout_completed"
        webhook_emit(
            url=payout.callback_url,
            object_id=str(payout.pk),
            payload={"event_type": event_name(meaning), **payout_payload(payout)},
        )
    return payout


def payouts_settle_due(*, limit: int = 200) -> int:
    due = SandboxPayout.objects.filter(
        status=SandboxPayoutStatus.PENDING, settle_at__lte=timezone.now()
    ).values_list("pk", flat=True)[:limit]
    settled = 0
    for payout_id in list(due):
        payout = payout_settle(payout_id=payout_id)
        settled += int(payout is not None and payout.status != SandboxPayoutStatus.PENDING)
    return settled


# --- Webhooks -------------------------------------------------------------------------------


def webhook_emit_purchase(purchase: SandboxPurchase, *, meaning: str) -> SandboxWebhook | None:
    if not purchase.callback_url:
        return None
    payload = {"event_type": event_name(meaning), **purchase_payload(purchase)}
    return webhook_emit(url=purchase.callback_url, object_id=str(purchase.pk), payload=payload)


def webhook_emit(*, url: str, object_id: str, payload: dict[str, Any]) -> SandboxWebhook:
    """Fix the body and its signature now; send it after the surrounding commit."""
    body = wire.dumps(payload)
    webhook = SandboxWebhook.objects.create(
        url=url,
        event_type=str(payload["event_type"]),
        object_id=object_id,
        body=body,
        signature=sign(body),
        next_attempt_at=timezone.now(),
    )
    from tessera.payments.tasks import sandbox_deliver_webhook

    enqueue_on_commit(sandbox_deliver_webhook, webhook_id=str(webhook.pk))
    return webhook


def webhook_deliver(*, webhook_id: Any) -> bool:
    """POST one webhook; True once the receiver took it. Raises SandboxDeliveryError for a
    retry (the caller's backoff), until `PAYMENTS_SANDBOX_WEBHOOK_MAX_ATTEMPTS`."""
    webhook = SandboxWebhook.objects.filter(pk=webhook_id).first()
    if webhook is None or webhook.delivered_at is not None or webhook.gave_up:
        return webhook is not None and webhook.delivered_at is not None
    headers = {
        "Content-Type": "application/json",
        signing.SIGNATURE_HEADER: webhook.signature,
        "User-Agent": "Tessera sandbox gateway",
    }
    status: int | None = None
    error = ""
    try:
        with httpx.Client(transport=http_transport, timeout=DELIVERY_TIMEOUT_SECONDS) as client:
            response = client.post(webhook.url, content=bytes(webhook.body), headers=headers)
        status = response.status_code
        if not 200 <= status < 300:
            error = f"answered {status}: {response.text[:200]}"
    except httpx.HTTPError as exc:
        error = f"{type(exc).__name__}: {exc}"[:300]
    now = timezone.now()
    webhook.attempts += 1
    webhook.last_status = status
    webhook.last_error = error[:300]
    if not error:
        webhook.delivered_at = now
        webhook.next_attempt_at = None
    elif webhook.attempts >= settings.PAYMENTS_SANDBOX_WEBHOOK_MAX_ATTEMPTS:
        webhook.gave_up = True
        webhook.next_attempt_at = None
        logger.warning("sandbox_webhook_gave_up", webhook_id=str(webhook.pk), error=error)
    else:
        webhook.next_attempt_at = now + timedelta(seconds=min(600, 2**webhook.attempts))
    webhook.save(
        update_fields=[
            "attempts",
            "last_status",
            "last_error",
            "delivered_at",
            "next_attempt_at",
            "gave_up",
            "updated_at",
        ]
    )
    if error and not webhook.gave_up:
        raise SandboxDeliveryError(error)
    return not error


def webhooks_due(*, limit: int = 200) -> list[str]:
    """Undelivered webhooks whose next attempt is well past (their task was lost)."""
    cutoff = timezone.now() - timedelta(seconds=60)
    return [
        str(pk)
        for pk in SandboxWebhook.objects.filter(
            delivered_at__isnull=True, gave_up=False, next_attempt_at__lte=cutoff
        ).values_list("pk", flat=True)[:limit]
    ]
