"""An account cannot be deleted while its wallet holds money or a payout is on its way: the
money would stay with an erased person nobody can pay out to."""

from __future__ import annotations

from typing import Any

import pytest
from django.utils import timezone

from tessera.accounts.models import User
from tessera.payments import services as payments
from tessera.payments.models import SandboxPayout
from tessera.wallet.tests.helpers import BANK, balance, fund

pytestmark = pytest.mark.django_db

PASSWORD = "correct horse battery"  # tests.fixtures.user's


def _delete(api: Any) -> Any:
    return api.delete("/api/auth/me", {"password": PASSWORD}, content_type="application/json")


def test_deletion_waits_for_the_balance_to_be_withdrawn_and_paid_out(
    user: Any,
    user_api: Any,
    sandbox_wire: None,
    django_capture_on_commit_callbacks: Any,
    settings: Any,
) -> None:
    fund(user, 15000)
    refused = _delete(user_api)
    assert refused.status_code == 409, refused.content
    assert refused.json()["error"]["code"] == "wallet_not_empty"
    user.refresh_from_db()
    assert (user.is_active, user.deleted_at, balance(user)) == (True, None, 15000)

    settings.PAYMENTS_SANDBOX_PAYOUT_DELAY_SECONDS = 3600
    with django_capture_on_commit_callbacks(execute=True):
        withdrawn = user_api.post(
            "/api/withdrawals",
            {"amount": "150.00", "currency": "ZAR", "bankDetails": BANK},
            HTTP_IDEMPOTENCY_KEY="all-of-it",
        )
    assert withdrawn.status_code == 201, withdrawn.content
    # The balance is 0, but the payout is still on its way.
    assert _delete(user_api).json()["error"]["code"] == "wallet_not_empty"

    SandboxPayout.objects.update(settle_at=timezone.now())
    with django_capture_on_commit_callbacks(execute=True):
        payments.payments_sweep()
    assert _delete(user_api).status_code == 204
    assert User.objects.get(pk=user.pk).deleted_at is not None


def test_an_account_without_money_is_deleted(user: Any, user_api: Any) -> None:
    assert _delete(user_api).status_code == 204
