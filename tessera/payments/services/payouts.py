"""Payouts: money out to a bank account through the gateway."""

from __future__ import annotations

from typing import Any

import structlog
from django.conf import settings
from django.db import IntegrityError, transaction

from tessera.core.jobs import enqueue_on_commit
from tessera.core.money import currency_check
from tessera.payments.bank import (
    bank_details_decrypt,
    bank_details_encrypt,
    bank_details_mask,
    bank_details_validate,
)
from tessera.payments.errors import IdempotencyMismatchError, PayoutNotFoundError
from tessera.payments.models import (
    PaymentTransaction,
    Payout,
    PayoutStatus,
    TransactionKind,
    TransactionStatus,
    WebhookDelivery,
)
from tessera.payments.models.orders import OPEN_PAYOUT
from tessera.payments.providers import (
    PayoutRequest,
    ProviderEvent,
    ProviderRefusedError,
    callback_url,
    provider_get,
)
from tessera.payments.selectors import payout_get
from tessera.payments.services.common import (
    EventMismatchError,
    as_uuid,
    handler_require,
    now,
    payout_event,
)

logger = structlog.get_logger("tessera.payments")


def payout_create(
    *,
    owner_id: Any,
    purpose: str,
    reference: str,
    amount_minor: int,
    currency: str,
    bank_details: dict[str, Any],
    idempotency_key: str,
    description: str = "",
) -> Payout:
    """Record a payout and send it to the gateway after the surrounding transaction commits
    (call it inside the transaction that reserves the money). The same (purpose, reference,
    idempotency_key) returns the same payout. `bank_details` are validated
    (bank.bank_details_validate: account_holder, account_number, bank_code, optional iban,
    bank_name, country), stored encrypted and masked. The product hears on_payout_completed
    or on_payout_failed."""
    handler_require(purpose)
    currency = currency_check(currency)
    if not isinstance(amount_minor, int) or isinstance(amount_minor, bool) or amount_minor <= 0:
        raise ValueError("amount_minor must be a positive integer")
    details = bank_details_validate(bank_details)
    lookup = {"purpose": purpose, "reference": reference, "idempotency_key": idempotency_key}
    existing = Payout.objects.filter(**lookup).first()
    if existing is None:
        try:
            with transaction.atomic():
                payout = Payout.objects.create(
                    owner_id=owner_id,
                    amount_minor=amount_minor,
                    currency=currency,
                    description=description[:200],
                    provider=settings.PAYMENTS_PROVIDER,
                    bank_details_encrypted=bank_details_encrypt(details),
                    bank_details_masked=bank_details_mask(details),
                    **lookup,
                )
                PaymentTransaction.objects.create(
                    payout=payout,
                    kind=TransactionKind.PAYOUT,
                    status=TransactionStatus.PENDING,
                    amount_minor=amount_minor,
                    currency=currency,
                    provider=payout.provider,
                )
                from tessera.payments.tasks import payout_submit_task

                enqueue_on_commit(payout_submit_task, payout_id=str(payout.pk))
                return payout
        except IntegrityError:
            existing = Payout.objects.get(**lookup)
    if (existing.owner_id, existing.amount_minor, existing.currency) != (
        as_uuid(owner_id) or owner_id,
        amount_minor,
        currency,
    ):
        raise IdempotencyMismatchError
    return existing


def _lock(payout_id: Any) -> Payout:
    payout = Payout.objects.select_for_update().filter(pk=payout_id).first()
    if payout is None:
        raise PayoutNotFoundError
    return payout


def payout_submit(*, payout_id: Any) -> Payout:
    """Ask the gateway to send a created payout (idempotent: the payout's id is the gateway's
    idempotency key). A gateway error propagates for the caller's retry; a refusal fails the
    payout and tells its product."""
    payout = payout_get(payout_id=payout_id)
    if payout.status != PayoutStatus.CREATED:
        return payout
    provider = provider_get(payout.provider)
    try:
        submission = provider.payout_create(
            PayoutRequest(
                payout_id=str(payout.pk),
                amount_minor=payout.amount_minor,
                currency=payout.currency,
                description=payout.description,
                bank_details=bank_details_decrypt(payout.bank_details_encrypted),
                callback_url=callback_url(payout.provider),
            )
        )
    except ProviderRefusedError as exc:
        logger.warning("payout_refused", payout_id=str(payout.pk), error=str(exc))
        with transaction.atomic():
            payout = _lock(payout.pk)
            _settle(payout, "failed", reason=f"The gateway refused the payout: {exc}"[:200])
        return payout
    with transaction.atomic():
        payout = _lock(payout.pk)
        if payout.status == PayoutStatus.CREATED:
            payout.submit(provider_payout_id=submission.payout_id, now=now())
            payout.save()
        elif not payout.provider_payout_id:
            payout.provider_payout_id = submission.payout_id
            payout.save(update_fields=["provider_payout_id", "updated_at"])
        if submission.status in ("completed", "failed"):
            _settle(payout, submission.status, reason=submission.failure_reason)
    return payout


def _settle(
    payout: Payout, status: str, *, reason: str = "", delivery: WebhookDelivery | None = None
) -> str:
    """Complete or fail a payout (locked by the caller) and tell its product, once."""
    if payout.status == status:
        return f"ignored: payout {payout.pk} is already {status}"
    if payout.status not in OPEN_PAYOUT:
        # Completed then failed, or failed (money given back) then completed: a person looks.
        raise EventMismatchError(
            f"payout {payout.pk} is {payout.status}; the gateway now says {status}"
        )
    previous = str(payout.status)
    moment = now()
    if status == "completed":
        payout.complete(now=moment)
    else:
        payout.fail(now=moment, reason=reason or "The gateway reported the payout failed.")
    payout.save()
    PaymentTransaction.objects.filter(
        payout=payout, kind=TransactionKind.PAYOUT, status=TransactionStatus.PENDING
    ).update(
        status=TransactionStatus.SUCCEEDED if status == "completed" else TransactionStatus.FAILED,
        provider_reference=payout.provider_payout_id or "",
        delivery=delivery,
        updated_at=moment,
    )
    handler = handler_require(payout.purpose)
    event = payout_event(payout, previous_status=previous)
    if status == "completed":
        handler.on_payout_completed(event)
    else:
        handler.on_payout_failed(event)
    return f"payout {payout.pk} {status} (was {previous})"


def payout_apply_event(
    *, payout_id: Any, event: ProviderEvent, delivery: WebhookDelivery | None = None
) -> str:
    with transaction.atomic():
        payout = _lock(payout_id)
        if event.amount_minor is not None and event.amount_minor != payout.amount_minor:
            raise EventMismatchError(
                f"payout {payout.pk}: the gateway reports {event.amount_minor}, "
                f"the payout is for {payout.amount_minor}"
            )
        if event.currency and event.currency != payout.currency:
            raise EventMismatchError(f"payout {payout.pk}: the gateway reports {event.currency}")
        if not payout.provider_payout_id and event.object_id:
            payout.provider_payout_id = event.object_id
            payout.save(update_fields=["provider_payout_id", "updated_at"])
        if event.status in ("completed", "failed"):
            return _settle(payout, event.status, reason=event.failure_reason, delivery=delivery)
        return f"ignored: payout {payout.pk} still {event.status} at the gateway"
