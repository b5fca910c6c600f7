"""Every write of the wallet."""

from tessera.wallet.services.adjustments import ADJUSTMENT_PERMISSION, ledger_adjust
from tessera.wallet.services.deposits import (
    DEPOSIT_PURPOSE,
    deposit_close,
    deposit_create,
    deposit_credit,
    deposit_refunded,
)
from tessera.wallet.services.ledger import system_account, transfer_post, wallet_account
from tessera.wallet.services.notices import (
    NOTICE_DRAIN_NAME,
    transaction_notify,
    transactions_notify_due,
)
from tessera.wallet.services.reconcile import ledger_check, wallet_reconcile
from tessera.wallet.services.withdrawals import (
    WITHDRAWAL_PURPOSE,
    withdrawal_complete,
    withdrawal_create,
    withdrawal_return,
)

__all__ = [
    "ADJUSTMENT_PERMISSION",
    "DEPOSIT_PURPOSE",
    "NOTICE_DRAIN_NAME",
    "WITHDRAWAL_PURPOSE",
    "deposit_close",
    "deposit_create",
    "deposit_credit",
    "deposit_refunded",
    "ledger_adjust",
    "ledger_check",
    "system_account",
    "transaction_notify",
    "transactions_notify_due",
    "transfer_post",
    "wallet_account",
    "wallet_reconcile",
    "withdrawal_complete",
    "withdrawal_create",
    "withdrawal_return",
]
