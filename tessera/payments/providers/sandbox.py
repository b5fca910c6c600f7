"""Tessera's adapter to the sandbox gateway (tessera/payments/sandbox.py): the same calls a
real gateway answers over HTTP, answered in-process from the sandbox's own tables, and the
same webhook format and signature scheme as Revio."""

from __future__ import annotations

import uuid
from collections.abc import Mapping

from django.conf import settings

from tessera.payments import sandbox
from tessera.payments.errors import SandboxPurchaseClosedError
from tessera.payments.providers import signing, wire
from tessera.payments.providers.base import (
    Checkout,
    CheckoutRequest,
    PaymentProvider,
    PayoutRequest,
    PayoutSubmission,
    ProviderEvent,
    ProviderRefusedError,
    RefundResult,
)


class SandboxProvider(PaymentProvider):
    name = "sandbox"

    def __init__(self, *, event_names: Mapping[str, str] | None = None) -> None:
        self.names = wire.event_names(event_names or settings.REVIO_EVENT_NAMES)

    def checkout_create(self, request: CheckoutRequest) -> Checkout:
        purchase = sandbox.purchase_create(
            idempotency_key=request.order_id,
            reference=request.order_id,
            amount_minor=request.amount_minor,
            currency=request.currency,
            description=request.description,
            client_email=request.customer_email,
            language=request.language,
            success_redirect=request.success_url,
            failure_redirect=request.failure_url,
            callback_url=request.callback_url,
            due=request.expires_at,
        )
        return Checkout(purchase_id=str(purchase.pk), checkout_url=sandbox.checkout_url(purchase))

    def purchase_fetch(self, purchase_id: str) -> ProviderEvent:
        if sandbox.purchase_get(purchase_id=purchase_id) is None:
            raise ProviderRefusedError(f"no sandbox purchase {purchase_id}", status=404)
        purchase = sandbox.purchase_expire_if_due(purchase_id=purchase_id)
        return wire.purchase_status_event(sandbox.purchase_payload(purchase))

    def purchase_cancel(self, purchase_id: str) -> None:
        if sandbox.purchase_get(purchase_id=purchase_id) is None:
            raise ProviderRefusedError(f"no sandbox purchase {purchase_id}", status=404)
        try:
            sandbox.purchase_cancel(purchase_id=purchase_id)
        except SandboxPurchaseClosedError as exc:
            raise ProviderRefusedError("the purchase is closed", status=409) from exc

    def refund_create(
        self, *, purchase_id: str, amount_minor: int, idempotency_key: str
    ) -> RefundResult:
        if sandbox.purchase_get(purchase_id=purchase_id) is None:
            raise ProviderRefusedError(f"no sandbox purchase {purchase_id}", status=404)
        try:
            refund = sandbox.purchase_refund(
                purchase_id=purchase_id, amount_minor=amount_minor, idempotency_key=idempotency_key
            )
        except (SandboxPurchaseClosedError, ValueError) as exc:
            raise ProviderRefusedError(f"refund refused: {exc}", status=400) from exc
        return RefundResult(refund_id=str(refund["id"]), amount_minor=int(refund["amount"]))

    def payout_create(self, request: PayoutRequest) -> PayoutSubmission:
        payout = sandbox.payout_create(
            idempotency_key=request.payout_id,
            reference=request.payout_id,
            amount_minor=request.amount_minor,
            currency=request.currency,
            account_number=str(request.bank_details.get("account_number", "")),
            callback_url=request.callback_url,
        )
        return PayoutSubmission(payout_id=str(payout.pk), status="processing")

    def payout_fetch(self, payout_id: str) -> ProviderEvent:
        try:
            uuid.UUID(payout_id)
        except ValueError:
            raise ProviderRefusedError(f"no sandbox payout {payout_id}", status=404) from None
        payout = sandbox.payout_settle(payout_id=payout_id)
        if payout is None:
            raise ProviderRefusedError(f"no sandbox payout {payout_id}", status=404)
        return wire.payout_status_event(sandbox.payout_payload(payout))

    def webhook_verify(self, body: bytes, headers: Mapping[str, str]) -> None:
        signing.verify(
            body,
            headers.get(signing.SIGNATURE_HEADER),
            signing.public_key_from_pem(sandbox.public_key_pem()),
        )

    def webhook_parse(self, body: bytes) -> ProviderEvent:
        return wire.parse_webhook(body, names=self.names)
