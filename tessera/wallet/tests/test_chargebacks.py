"""A chargeback of a deposit shows as a chargeback (not a refund) in the wallet: the
transaction list and its filter, the ledger, the audit log, the notice; a refund stays a
refund."""

from __future__ import annotations

import uuid
from typing import Any, get_args

import pytest

from tessera.audit.models import AuditLog
from tessera.notifications.models import Notification, NotificationTemplate
from tessera.payments import services as payments
from tessera.payments.tasks import process_webhook
from tessera.payments.tests.helpers import chargeback_body, refund_body, sandbox_sign
from tessera.wallet import services
from tessera.wallet.models import LedgerTransfer, TransactionKind, WalletTransaction
from tessera.wallet.schemas import TransactionKindName
from tessera.wallet.tests.helpers import balance, fund

pytestmark = pytest.mark.django_db


def gateway_says(deposit: WalletTransaction, make_body: Any, amount: int) -> None:
    """The gateway's webhook about the deposit's purchase, received and processed."""
    order = payments.payment_order_get(order_id=deposit.payment_order_id)
    body = make_body(f"pm-{uuid.uuid4().hex[:8]}", order.provider_purchase_id, amount)
    receipt = payments.webhook_receive(
        provider_name="sandbox", body=body, headers={"X-Signature": sandbox_sign(body)}
    )
    process_webhook.apply(kwargs={"delivery_id": str(receipt.delivery_id)})


def chargeback(deposit: WalletTransaction, amount: int) -> None:
    gateway_says(
        deposit,
        lambda ref, purchase, minor: chargeback_body(
            chargeback_id=ref, purchase_id=purchase, amount=minor
        ),
        amount,
    )


def refund(deposit: WalletTransaction, amount: int) -> None:
    gateway_says(
        deposit,
        lambda ref, purchase, minor: refund_body(refund_id=ref, purchase_id=purchase, amount=minor),
        amount,
    )


def listed(api: Any, query: str = "") -> list[tuple[str, str, str]]:
    reply = api.get(f"/api/transactions{query}")
    assert reply.status_code == 200, reply.json()
    return [(t["kind"], t["direction"], t["amount"]) for t in reply.json()["data"]["results"]]


def balance_shown(api: Any) -> str:
    (row,) = api.get("/api/balance").json()["data"]["balances"]
    return str(row["amount"])


def test_a_chargeback_webhook_on_a_settled_deposit_shows_as_a_chargeback(
    user: Any, user_api: Any, django_capture_on_commit_callbacks: Any
) -> None:
    deposit = fund(user, 10000)

    with django_capture_on_commit_callbacks(execute=True):
        chargeback(deposit, 4000)

    assert listed(user_api) == [("chargeback", "debit", "40.00"), ("deposit", "credit", "100.00")]
    assert listed(user_api, "?kind=chargeback") == [("chargeback", "debit", "40.00")]
    assert listed(user_api, "?kind=refund") == []
    assert balance_shown(user_api) == "60.00"
    assert balance(user) == 6000
    taken = WalletTransaction.objects.get(user=user, kind="chargeback")
    assert (taken.status, taken.description) == ("completed", "Chargeback of a deposit")
    assert list(LedgerTransfer.objects.filter(kind="chargeback").values_list("reference")) == [
        (f"chargeback:{taken.pk}",)
    ]
    assert services.ledger_check().ok
    assert AuditLog.objects.filter(action="wallet.deposit.charged_back").count() == 1
    assert not AuditLog.objects.filter(action="wallet.deposit.refunded").exists()
    notice = Notification.objects.get(user=user, kind="wallet.chargeback_completed")
    assert notice.title == "Deposit charged back"
    assert "R" in notice.body
    assert "40.00" in notice.body
    assert notice.data["kind"] == "chargeback"


def test_a_refund_still_shows_as_a_refund_beside_a_chargeback(
    user: Any, user_api: Any, django_capture_on_commit_callbacks: Any
) -> None:
    deposit = fund(user, 10000)

    with django_capture_on_commit_callbacks(execute=True):
        refund(deposit, 2500)
        chargeback(deposit, 7500)

    assert listed(user_api) == [
        ("chargeback", "debit", "75.00"),
        ("refund", "debit", "25.00"),
        ("deposit", "credit", "100.00"),
    ]
    assert listed(user_api, "?kind=refund") == [("refund", "debit", "25.00")]
    assert balance_shown(user_api) == "0.00"
    assert sorted(LedgerTransfer.objects.values_list("kind", flat=True)) == [
        "chargeback",
        "deposit",
        "refund",
    ]
    assert services.ledger_check().ok
    told = sorted(Notification.objects.filter(user=user).values_list("kind", flat=True))
    # The deposit's notice was still due (made outside the captured commit): sent with them.
    assert told == [
        "wallet.chargeback_completed",
        "wallet.deposit_completed",
        "wallet.refund_completed",
    ]


def test_the_chargeback_notice_has_english_and_arabic_templates() -> None:
    assert sorted(
        NotificationTemplate.objects.filter(key="wallet.chargeback_completed").values_list(
            "channel", "language"
        )
    ) == [("email", "ar"), ("email", "en"), ("in_app", "ar"), ("in_app", "en")]


def test_the_api_enum_of_kinds_is_the_models(api: Any) -> None:
    assert list(get_args(TransactionKindName)) == TransactionKind.values
    schema = api.get("/api/openapi.json").json()
    kinds = schema["components"]["schemas"]["TransactionOut"]["properties"]["kind"]
    assert kinds["enum"] == TransactionKind.values
