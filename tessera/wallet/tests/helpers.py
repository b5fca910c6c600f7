"""Helpers for wallet tests: money in through the real sandbox flow, bank details."""

from __future__ import annotations

import uuid
from typing import Any

from tessera.payments import sandbox
from tessera.payments import services as payments
from tessera.payments.models import PaymentOrder, SandboxWebhook
from tessera.wallet import services
from tessera.wallet.models import WalletTransaction

BANK = {
    "accountHolder": "Ada Lovelace",
    "accountNumber": "1234567890",
    "bankCode": "250655",
}
BANK_SNAKE = {
    "account_holder": "Ada Lovelace",
    "account_number": "1234567890",
    "bank_code": "250655",
}


def deliver_sandbox_webhooks(object_id: str) -> list[str]:
    """What the sandbox sent about `object_id`, received and processed as a worker would."""
    outcomes = []
    for webhook in SandboxWebhook.objects.filter(object_id=object_id).order_by("created_at"):
        receipt = payments.webhook_receive(
            provider_name="sandbox",
            body=bytes(webhook.body),
            headers={"X-Signature": webhook.signature},
        )
        if not receipt.duplicate:
            outcomes.append(payments.webhook_process(delivery_id=receipt.delivery_id))
    return outcomes


def fund(user: Any, amount_minor: int, currency: str = "ZAR") -> WalletTransaction:
    """A deposit made, paid on the sandbox's page and credited through its webhook."""
    tx = services.deposit_create(
        user=user, amount_minor=amount_minor, currency=currency, idempotency_key=str(uuid.uuid4())
    )
    purchase_id = str(PaymentOrder.objects.get(pk=str(tx.payment_order_id)).provider_purchase_id)
    sandbox.purchase_act(purchase_id=purchase_id, action="pay")
    deliver_sandbox_webhooks(purchase_id)
    tx.refresh_from_db()
    return tx


def balance(user: Any, currency: str = "ZAR") -> int:
    account = services.wallet_account(user_id=user.pk, currency=currency, create=False)
    return 0 if account is None else int(account.balance_minor or 0)
