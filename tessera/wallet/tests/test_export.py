"""The account export (POST /api/auth/me/export) holds the person's wallet: balances per
currency and every transaction, bank details masked only; nobody else's."""

from __future__ import annotations

import json
import uuid
from typing import Any

import pytest

from tessera.payments.models import Payout
from tessera.wallet import services
from tessera.wallet.tests.helpers import BANK_SNAKE, fund

pytestmark = pytest.mark.django_db


def test_the_export_holds_the_wallet_with_bank_details_masked(
    user: Any, other_user: Any, user_api: Any, django_capture_on_commit_callbacks: Any
) -> None:
    deposit = fund(user, 15000)
    fund(user, 2500, currency="USD")
    # Reserved at once; it stays `processing` (the payout is not sent in this test).
    withdrawal = services.withdrawal_create(
        user=user,
        amount_minor=4000,
        currency="ZAR",
        bank_details=BANK_SNAKE,
        idempotency_key=str(uuid.uuid4()),
    )
    fund(other_user, 99900)  # someone else's money, which must not appear

    with django_capture_on_commit_callbacks(execute=True):
        started = user_api.post("/api/auth/me/export")
    assert started.status_code == 202, started.json()
    task = user_api.get(started.json()["data"]["statusUrl"]).json()["data"]
    assert task["state"] == "SUCCESS", task
    wallet = task["result"]["wallet"]

    balances = {row["currency"]: row["amount"] for row in wallet["balances"]}
    assert balances == {"USD": "25.00", "ZAR": "110.00"}
    rows = {row["id"]: row for row in wallet["transactions"]}
    assert set(rows) == {str(deposit.pk), str(withdrawal.pk)} | {
        row["id"] for row in wallet["transactions"] if row["currency"] == "USD"
    }
    assert len(rows) == 3
    assert rows[str(deposit.pk)]["kind"] == "deposit"
    assert rows[str(deposit.pk)]["status"] == "completed"
    assert rows[str(deposit.pk)]["amount"] == "150.00"
    assert rows[str(deposit.pk)]["completedAt"]
    out = rows[str(withdrawal.pk)]
    assert (out["kind"], out["direction"], out["amount"], out["status"]) == (
        "withdrawal",
        "debit",
        "40.00",
        "processing",
    )
    assert out["bankDetails"]
    dumped = json.dumps(wallet)
    assert BANK_SNAKE["account_number"] not in dumped  # masked, never decrypted
    assert Payout.objects.get(owner=user).bank_details_encrypted not in dumped
    assert "999.00" not in dumped
