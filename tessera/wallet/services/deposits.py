"""Deposits: money into a wallet through the gateway's checkout."""

from __future__ import annotations

from django.conf import settings
from django.db import IntegrityError, transaction
from django.utils import timezone
from django.utils.translation import gettext as _

from tessera.accounts.models import User
from tessera.audit.services import audit_record
from tessera.core.context import ClientContext
from tessera.core.errors import CoreErrorCode, InvalidInputError
from tessera.core.money import amount_format
from tessera.payments import services as payments
from tessera.payments.hooks import OrderEvent
from tessera.wallet.models import (
    AccountKind,
    Direction,
    TransactionKind,
    TransactionStatus,
    TransferKind,
    WalletTransaction,
)
from tessera.wallet.services.common import limits_check, same_request, settled
from tessera.wallet.services.ledger import system_account, transfer_post, wallet_account

DEPOSIT_PURPOSE = "wallet.deposit"


def _key_reused() -> InvalidInputError:
    return InvalidInputError(
        _("This Idempotency-Key was already used with a different request body."),
        code=CoreErrorCode.IDEMPOTENCY_KEY_REUSED,
        fields={"Idempotency-Key": _("Use a new key for a different request.")},
    )


def deposit_create(
    *,
    user: User,
    amount_minor: int,
    currency: str,
    idempotency_key: str,
    client: ClientContext | None = None,
) -> WalletTransaction:
    """A pending deposit with a checkout at the gateway (`checkout_url`). Credited exactly
    once when the gateway reports it paid; failed, cancelled or expired otherwise. The same
    key returns the same deposit, and finishes one whose gateway call failed before."""
    limits_check(
        amount_minor=amount_minor,
        currency=currency,
        minimum=settings.WALLET_DEPOSIT_MIN,
        maximum=settings.WALLET_DEPOSIT_MAX,
    )
    lookup = {"user": user, "kind": TransactionKind.DEPOSIT, "idempotency_key": idempotency_key}
    tx = WalletTransaction.objects.filter(**lookup).first()
    if tx is None:
        try:
            with transaction.atomic():
                tx = WalletTransaction.objects.create(
                    direction=Direction.CREDIT,
                    status=TransactionStatus.PENDING,
                    amount_minor=amount_minor,
                    currency=currency,
                    **lookup,
                )
                audit_record(
                    action="wallet.deposit.created",
                    actor=user,
                    target=tx,
                    changes={"amount": amount_format(amount_minor, currency), "currency": currency},
                    client=client,
                )
        except IntegrityError:
            tx = WalletTransaction.objects.get(**lookup)
    if not same_request(tx, amount_minor=amount_minor, currency=currency):
        raise _key_reused()
    if tx.status != TransactionStatus.PENDING or tx.payment_order_id:
        return tx
    order = payments.payment_order_create(
        owner_id=user.pk,
        purpose=DEPOSIT_PURPOSE,
        reference=str(tx.pk),
        amount_minor=amount_minor,
        currency=currency,
        description=_("Wallet deposit"),
        idempotency_key=str(tx.pk),
    )
    with transaction.atomic():
        WalletTransaction.objects.filter(pk=tx.pk, payment_order__isnull=True).update(
            payment_order_id=order.pk,
            checkout_url=order.checkout_url,
            expires_at=order.expires_at,
            updated_at=timezone.now(),
        )
    tx.refresh_from_db()
    return tx


def _locked(reference: str) -> WalletTransaction:
    return WalletTransaction.objects.select_for_update().get(
        pk=reference, kind=TransactionKind.DEPOSIT
    )


def deposit_credit(*, event: OrderEvent) -> WalletTransaction:
    """The order is paid: credit the wallet, once (the handler of on_order_paid)."""
    tx = _locked(event.reference)
    if tx.status == TransactionStatus.COMPLETED:
        return tx
    if not same_request(tx, amount_minor=event.amount_minor, currency=event.currency):
        raise RuntimeError(f"deposit {tx.pk}: the order's amount differs from the deposit's")
    wallet = wallet_account(user_id=tx.user_id, currency=tx.currency)
    clearing = system_account(kind=AccountKind.GATEWAY_CLEARING, currency=tx.currency)
    transfer_post(
        kind=TransferKind.DEPOSIT,
        reference=f"deposit:{tx.pk}",
        legs=[(clearing, -tx.amount_minor), (wallet, tx.amount_minor)],
        description=f"Deposit {tx.pk} (order {event.order_id})",
    )
    tx.credit(now=timezone.now())
    tx.payment_order_id = tx.payment_order_id or event.order_id
    tx.save()
    audit_record(
        action="wallet.deposit.completed",
        target=tx,
        changes={"amount": amount_format(tx.amount_minor, tx.currency), "currency": tx.currency},
    )
    settled(tx)
    return tx


def deposit_close(*, event: OrderEvent) -> WalletTransaction:
    """The order ended unpaid: the deposit fails, expires or is cancelled like it."""
    tx = _locked(event.reference)
    if tx.status != TransactionStatus.PENDING:
        return tx
    if event.status == "expired":
        tx.expire()
    elif event.status == "cancelled":
        tx.cancel(reason=event.failure_reason)
    else:
        tx.fail_deposit(reason=event.failure_reason or _("The payment did not go through."))
    tx.save()
    audit_record(action=f"wallet.deposit.{tx.status}", target=tx)
    settled(tx)
    return tx


def deposit_refunded(*, event: OrderEvent) -> WalletTransaction | None:
    """Part or all of a deposit went back to the payer at the gateway: a refund, or a
    chargeback by the payer's bank (`event.refund_kind`), each booked and shown as what it
    is. The wallet gives it back too. A wallet that no longer holds it refuses (insufficient
    funds), which fails the webhook's processing into the dead letters for staff to settle
    with an adjustment."""
    deposit = _locked(event.reference)
    charged_back = event.refund_kind == "chargeback"
    kind = TransactionKind.CHARGEBACK if charged_back else TransactionKind.REFUND
    # The key is the order's running total of money given back: the same for a refund or a
    # chargeback, so a movement booked under either kind (before chargebacks had their own)
    # is found again.
    refund_key = f"refund:{event.order_id}:{event.refunded_minor}"
    existing = WalletTransaction.objects.filter(
        user_id=deposit.user_id,
        kind__in=[TransactionKind.REFUND, TransactionKind.CHARGEBACK],
        idempotency_key=refund_key,
    ).first()
    if existing is not None:
        return existing
    amount = event.refund_amount_minor
    tx = WalletTransaction.objects.create(
        user_id=deposit.user_id,
        kind=kind,
        direction=Direction.DEBIT,
        status=TransactionStatus.COMPLETED,
        amount_minor=amount,
        currency=deposit.currency,
        idempotency_key=refund_key,
        description=_("Chargeback of a deposit") if charged_back else _("Refund of a deposit"),
        payment_order_id=event.order_id,
        completed_at=timezone.now(),
    )
    wallet = wallet_account(user_id=deposit.user_id, currency=deposit.currency)
    clearing = system_account(kind=AccountKind.GATEWAY_CLEARING, currency=deposit.currency)
    transfer_post(
        kind=TransferKind.CHARGEBACK if charged_back else TransferKind.REFUND,
        reference=f"{kind}:{tx.pk}",
        legs=[(wallet, -amount), (clearing, amount)],
        description=f"{'Chargeback' if charged_back else 'Refund'} of deposit {deposit.pk}",
    )
    audit_record(
        action="wallet.deposit.charged_back" if charged_back else "wallet.deposit.refunded",
        target=tx,
        changes={"deposit": str(deposit.pk), "amount": amount_format(amount, deposit.currency)},
    )
    settled(tx)
    return tx
