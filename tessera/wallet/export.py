"""The wallet section of the account export (tessera.core.exports)."""

from __future__ import annotations

from typing import Any

from tessera.wallet.schemas import BalanceOut, TransactionOut
from tessera.wallet.selectors import balance_list, transaction_list


def account_export(*, user: Any) -> dict[str, Any]:
    """The balance in each currency and every wallet transaction (deposits, withdrawals,
    refunds, chargebacks, adjustments), as the API shows them: bank details masked only (the
    encrypted ones stay with the payout), no idempotency keys, no ledger internals."""
    return {
        "balances": [
            BalanceOut.model_validate(row).model_dump(mode="json", by_alias=True)
            for row in balance_list(user=user)
        ],
        "transactions": [
            TransactionOut.model_validate(tx).model_dump(mode="json", by_alias=True)
            for tx in transaction_list(user=user).order_by("-created_at", "-id")
        ],
    }
