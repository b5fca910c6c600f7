"""Withdrawals: money out of a wallet to a bank account through a payout."""

from __future__ import annotations

from typing import Any

from django.conf import settings
from django.db import transaction
from django.utils import timezone
from django.utils.translation import gettext as _

from tessera.accounts.models import User
from tessera.audit.services import audit_record
from tessera.core.context import ClientContext
from tessera.core.money import amount_format
from tessera.payments import services as payments
from tessera.payments.hooks import PayoutEvent
from tessera.wallet.errors import InsufficientFundsError
from tessera.wallet.models import (
    AccountKind,
    Direction,
    TransactionKind,
    TransactionStatus,
    TransferKind,
    WalletTransaction,
)
from tessera.wallet.services.common import limits_check, same_request, settled
from tessera.wallet.services.deposits import _key_reused
from tessera.wallet.services.ledger import (
    system_account,
    transfer_post,
    wallet_account,
    wallets_lock,
)

WITHDRAWAL_PURPOSE = "wallet.withdrawal"


def withdrawal_create(
    *,
    user: User,
    amount_minor: int,
    currency: str,
    bank_details: dict[str, Any],
    idempotency_key: str,
    client: ClientContext | None = None,
) -> WalletTransaction:
    """Reserve the amount at once (wallet → payouts in flight) and create the payout, in one
    transaction under the wallet's row lock: `processing`. Completed when the payout is;
    the money returns to the wallet if it fails. The same key returns the same withdrawal."""
    limits_check(
        amount_minor=amount_minor,
        currency=currency,
        minimum=settings.WALLET_WITHDRAWAL_MIN,
        maximum=settings.WALLET_WITHDRAWAL_MAX,
    )
    details = payments.bank_details_validate(bank_details)
    lookup = {"user": user, "kind": TransactionKind.WITHDRAWAL, "idempotency_key": idempotency_key}
    with transaction.atomic():
        wallet = wallet_account(user_id=user.pk, currency=currency, create=False)
        if wallet is not None:
            wallet = wallets_lock([wallet.pk])[wallet.pk]
        # Under the wallet's lock, a concurrent request with the same key waits for this
        # one and then finds its withdrawal.
        existing = WalletTransaction.objects.filter(**lookup).first()
        if existing is not None:
            if not same_request(existing, amount_minor=amount_minor, currency=currency):
                raise _key_reused()
            return existing
        if wallet is None or (wallet.balance_minor or 0) < amount_minor:
            raise InsufficientFundsError(
                _("The wallet holds %(balance)s %(currency)s, less than %(amount)s %(currency)s.")
                % {
                    "balance": amount_format(
                        (wallet.balance_minor or 0) if wallet else 0, currency
                    ),
                    "amount": amount_format(amount_minor, currency),
                    "currency": currency,
                },
                fields={"amount": _("More than the wallet holds.")},
            )
        tx = WalletTransaction.objects.create(
            direction=Direction.DEBIT,
            status=TransactionStatus.PROCESSING,
            amount_minor=amount_minor,
            currency=currency,
            bank_details_masked=payments.bank_details_mask(details),
            **lookup,
        )
        in_flight = system_account(kind=AccountKind.PAYOUTS_IN_FLIGHT, currency=currency)
        transfer_post(
            kind=TransferKind.WITHDRAWAL_RESERVE,
            reference=f"withdrawal:{tx.pk}:reserve",
            legs=[(wallet, -amount_minor), (in_flight, amount_minor)],
            description=f"Withdrawal {tx.pk} reserved",
        )
        payout = payments.payout_create(
            owner_id=user.pk,
            purpose=WITHDRAWAL_PURPOSE,
            reference=str(tx.pk),
            amount_minor=amount_minor,
            currency=currency,
            bank_details=details,
            idempotency_key=str(tx.pk),
            description=_("Tessera wallet withdrawal"),
        )
        tx.payout_id = payout.pk
        tx.save(update_fields=["payout", "updated_at"])
        audit_record(
            action="wallet.withdrawal.created",
            actor=user,
            target=tx,
            changes={
                "amount": amount_format(amount_minor, currency),
                "currency": currency,
                "bank_details": tx.bank_details_masked,
            },
            client=client,
        )
    return tx


def _locked(reference: str) -> WalletTransaction:
    return WalletTransaction.objects.select_for_update().get(
        pk=reference, kind=TransactionKind.WITHDRAWAL
    )


def withdrawal_complete(*, event: PayoutEvent) -> WalletTransaction:
    """The payout reached the bank: the reserved money leaves through the gateway."""
    tx = _locked(event.reference)
    if tx.status == TransactionStatus.COMPLETED:
        return tx
    in_flight = system_account(kind=AccountKind.PAYOUTS_IN_FLIGHT, currency=tx.currency)
    clearing = system_account(kind=AccountKind.GATEWAY_CLEARING, currency=tx.currency)
    transfer_post(
        kind=TransferKind.WITHDRAWAL_COMPLETE,
        reference=f"withdrawal:{tx.pk}:complete",
        legs=[(in_flight, -tx.amount_minor), (clearing, tx.amount_minor)],
        description=f"Withdrawal {tx.pk} paid out (payout {event.payout_id})",
    )
    tx.pay_out(now=timezone.now())
    tx.save()
    audit_record(action="wallet.withdrawal.completed", target=tx)
    settled(tx)
    return tx


def withdrawal_return(*, event: PayoutEvent) -> WalletTransaction:
    """The payout failed: the reserved money goes back to the wallet."""
    tx = _locked(event.reference)
    if tx.status == TransactionStatus.FAILED:
        return tx
    wallet = wallet_account(user_id=tx.user_id, currency=tx.currency)
    in_flight = system_account(kind=AccountKind.PAYOUTS_IN_FLIGHT, currency=tx.currency)
    transfer_post(
        kind=TransferKind.WITHDRAWAL_RETURN,
        reference=f"withdrawal:{tx.pk}:return",
        legs=[(in_flight, -tx.amount_minor), (wallet, tx.amount_minor)],
        description=f"Withdrawal {tx.pk} returned (payout {event.payout_id} failed)",
    )
    tx.return_funds(reason=event.failure_reason or _("The bank did not accept the payout."))
    tx.save()
    audit_record(
        action="wallet.withdrawal.failed", target=tx, changes={"reason": tx.failure_reason}
    )
    settled(tx)
    return tx
