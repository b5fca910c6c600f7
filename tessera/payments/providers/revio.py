"""The Revio gateway (https://gate.reviopay.com/api/v1/): Bearer API key and brand id.

`POST purchases/` makes a checkout and returns its `checkout_url`; `GET purchases/{id}/`
reads its status; `POST purchases/{id}/cancel/` and `POST purchases/{id}/refund/`;
`POST payouts` sends money to a bank account and `GET payouts/{id}` reads it. Every POST
carries `Idempotency-Key` (the order's or payout's id) so that a retry after a lost answer
does not create a second purchase or payout. Webhooks are verified with the configured
public key (signing.verify) and parsed by `wire`.
"""

from __future__ import annotations

from collections.abc import Mapping
from typing import Any

import httpx
from django.conf import settings

from tessera.payments.providers import signing, wire
from tessera.payments.providers.base import (
    Checkout,
    CheckoutRequest,
    PaymentProvider,
    PayoutRequest,
    PayoutSubmission,
    ProviderError,
    ProviderEvent,
    ProviderRefusedError,
    RefundResult,
)


class RevioProvider(PaymentProvider):
    name = "revio"

    def __init__(
        self,
        *,
        api_url: str | None = None,
        api_key: str | None = None,
        brand_id: str | None = None,
        public_key_pem: str | None = None,
        timeout: float | None = None,
        event_names: Mapping[str, str] | None = None,
    ) -> None:
        self.api_url = (api_url or settings.REVIO_API_URL).rstrip("/") + "/"
        self.api_key = api_key if api_key is not None else settings.REVIO_API_KEY
        self.brand_id = brand_id if brand_id is not None else settings.REVIO_BRAND_ID
        self.public_key_pem = (
            public_key_pem if public_key_pem is not None else settings.REVIO_WEBHOOK_PUBLIC_KEY
        )
        self.timeout = timeout if timeout is not None else settings.REVIO_TIMEOUT_SECONDS
        self.names = wire.event_names(event_names or settings.REVIO_EVENT_NAMES)

    # --- HTTP -----------------------------------------------------------------------------

    def _request(
        self,
        method: str,
        path: str,
        *,
        json: Mapping[str, Any] | None = None,
        idempotency_key: str | None = None,
    ) -> dict[str, Any]:
        headers = {
            "Authorization": f"Bearer {self.api_key}",
            "Accept": "application/json",
            "User-Agent": "Tessera payments",
        }
        if idempotency_key:
            headers["Idempotency-Key"] = idempotency_key
        try:
            with httpx.Client(base_url=self.api_url, timeout=self.timeout) as client:
                response = client.request(method, path, json=json, headers=headers)
        except httpx.HTTPError as exc:
            raise ProviderError(f"Revio {method} {path}: {type(exc).__name__}: {exc}") from exc
        if response.status_code >= 500 or response.status_code == 429:
            raise ProviderError(f"Revio {method} {path} answered {response.status_code}")
        if response.status_code >= 400:
            raise ProviderRefusedError(
                f"Revio {method} {path} refused the request ({response.status_code})",
                status=response.status_code,
                body=response.text,
            )
        try:
            payload = response.json()
        except ValueError:
            raise ProviderError(f"Revio {method} {path} answered something not JSON") from None
        if not isinstance(payload, dict):
            raise ProviderError(f"Revio {method} {path} answered something not an object")
        return payload

    # --- Purchases ------------------------------------------------------------------------

    def checkout_create(self, request: CheckoutRequest) -> Checkout:
        body: dict[str, Any] = {
            "brand_id": self.brand_id,
            "reference": request.order_id,
            "client": {"email": request.customer_email} if request.customer_email else {},
            "purchase": {
                "currency": request.currency,
                "language": request.language,
                "products": [
                    {"name": request.description or request.order_id, "price": request.amount_minor}
                ],
            },
            "due": int(request.expires_at.timestamp()),
            "success_callback": request.callback_url,
            "send_receipt": False,
        }
        if request.success_url:
            body["success_redirect"] = request.success_url
        if request.failure_url:
            body["failure_redirect"] = request.failure_url
            body["cancel_redirect"] = request.failure_url
        reply = self._request("POST", "purchases/", json=body, idempotency_key=request.order_id)
        purchase_id, checkout_url = reply.get("id"), reply.get("checkout_url")
        if not isinstance(purchase_id, str) or not isinstance(checkout_url, str):
            raise ProviderError("Revio's purchase has no id or checkout_url")
        return Checkout(purchase_id=purchase_id, checkout_url=checkout_url)

    def purchase_fetch(self, purchase_id: str) -> ProviderEvent:
        return wire.purchase_status_event(self._request("GET", f"purchases/{purchase_id}/"))

    def purchase_cancel(self, purchase_id: str) -> None:
        self._request("POST", f"purchases/{purchase_id}/cancel/")

    def refund_create(
        self, *, purchase_id: str, amount_minor: int, idempotency_key: str
    ) -> RefundResult:
        reply = self._request(
            "POST",
            f"purchases/{purchase_id}/refund/",
            json={"amount": amount_minor},
            idempotency_key=idempotency_key,
        )
        refund_id = reply.get("id")
        payment = reply.get("payment")
        payment = payment if isinstance(payment, dict) else {}
        amount = payment.get("amount", amount_minor)
        if not isinstance(refund_id, str) or not isinstance(amount, int):
            raise ProviderError("Revio's refund has no id or amount")
        return RefundResult(refund_id=refund_id, amount_minor=amount)

    # --- Payouts --------------------------------------------------------------------------

    def payout_create(self, request: PayoutRequest) -> PayoutSubmission:
        details = request.bank_details
        body = {
            "brand_id": self.brand_id,
            "reference": request.payout_id,
            "amount": request.amount_minor,
            "currency": request.currency,
            "description": request.description,
            "callback_url": request.callback_url,
            "bank_account": {
                "account_holder": details.get("account_holder", ""),
                "account_number": details.get("account_number", ""),
                "bank_code": details.get("bank_code", ""),
                "iban": details.get("iban", ""),
                "bank_name": details.get("bank_name", ""),
                "country": details.get("country", ""),
            },
        }
        reply = self._request("POST", "payouts", json=body, idempotency_key=request.payout_id)
        event = wire.payout_status_event(reply)
        if not event.object_id:
            raise ProviderError("Revio's payout has no id")
        return PayoutSubmission(
            payout_id=event.object_id, status=event.status, failure_reason=event.failure_reason
        )

    def payout_fetch(self, payout_id: str) -> ProviderEvent:
        return wire.payout_status_event(self._request("GET", f"payouts/{payout_id}"))

    # --- Webhooks -------------------------------------------------------------------------

    def webhook_verify(self, body: bytes, headers: Mapping[str, str]) -> None:
        if not self.public_key_pem:
            # Without the key nothing can be trusted: every delivery is refused.
            raise signing.SignatureError("invalid")
        signing.verify(
            body,
            headers.get(signing.SIGNATURE_HEADER),
            signing.public_key_from_pem(self.public_key_pem),
        )

    def webhook_parse(self, body: bytes) -> ProviderEvent:
        return wire.parse_webhook(body, names=self.names)
