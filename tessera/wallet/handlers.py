"""The wallet hears its payments through the payments hooks (registered in apps.py)."""

from __future__ import annotations

from tessera.payments.hooks import OrderEvent, PaymentHandler, PayoutEvent
from tessera.wallet import services

DEPOSIT_PURPOSE = services.DEPOSIT_PURPOSE
WITHDRAWAL_PURPOSE = services.WITHDRAWAL_PURPOSE


class WalletDeposits(PaymentHandler):
    def on_order_paid(self, event: OrderEvent) -> None:
        services.deposit_credit(event=event)

    def on_order_failed(self, event: OrderEvent) -> None:
        services.deposit_close(event=event)

    def on_order_refunded(self, event: OrderEvent) -> None:
        services.deposit_refunded(event=event)


class WalletWithdrawals(PaymentHandler):
    def on_payout_completed(self, event: PayoutEvent) -> None:
        services.withdrawal_complete(event=event)

    def on_payout_failed(self, event: PayoutEvent) -> None:
        services.withdrawal_return(event=event)
