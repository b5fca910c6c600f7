"""Manual adjustments by staff: always a balanced transfer with a reason, audited."""

from __future__ import annotations

import uuid
from typing import Any

from django.db import transaction
from django.utils import timezone
from django.utils.translation import gettext as _

from tessera.audit.services import audit_record
from tessera.core.context import ClientContext
from tessera.core.errors import PermissionDeniedError
from tessera.core.money import amount_format, currency_check
from tessera.wallet.errors import AdjustmentInvalidError
from tessera.wallet.models import (
    AccountKind,
    Direction,
    TransactionKind,
    TransactionStatus,
    TransferKind,
    WalletTransaction,
)
from tessera.wallet.services.common import settled
from tessera.wallet.services.ledger import system_account, transfer_post, wallet_account

ADJUSTMENT_PERMISSION = "wallet.make_adjustment"
COUNTER_ACCOUNTS = (AccountKind.ADJUSTMENTS, AccountKind.FEES)
REASON_MIN_LENGTH = 10


def ledger_adjust(
    *,
    actor: Any,
    user_id: Any,
    currency: str,
    amount_minor: int,
    direction: str,
    reason: str,
    counter_account: str = AccountKind.ADJUSTMENTS,
    client: ClientContext | None = None,
) -> WalletTransaction:
    """Credit or debit a user's wallet against the platform's adjustments (or fees)
    account. Only staff with `wallet.make_adjustment`; a debit never takes the wallet below
    zero. The person sees it in their transactions with the reason."""
    if not (actor and actor.is_active and actor.is_staff and actor.has_perm(ADJUSTMENT_PERMISSION)):
        raise PermissionDeniedError(_("Adjustments need the permission to make them."))
    currency = currency_check(currency)
    reason = " ".join(str(reason or "").split())
    errors: dict[str, str] = {}
    if len(reason) < REASON_MIN_LENGTH:
        errors["reason"] = _("Say why, in at least %(count)d characters.") % {
            "count": REASON_MIN_LENGTH
        }
    if direction not in Direction.values:
        errors["direction"] = _("Credit or debit.")
    if counter_account not in COUNTER_ACCOUNTS:
        errors["counter_account"] = _("The adjustments or the fees account.")
    if not isinstance(amount_minor, int) or isinstance(amount_minor, bool) or amount_minor <= 0:
        errors["amount"] = _("Must be more than zero.")
    if errors:
        raise AdjustmentInvalidError(fields=errors)
    with transaction.atomic():
        wallet = wallet_account(user_id=user_id, currency=currency)
        counter = system_account(kind=counter_account, currency=currency)
        tx = WalletTransaction.objects.create(
            user_id=user_id,
            kind=TransactionKind.ADJUSTMENT,
            direction=direction,
            status=TransactionStatus.COMPLETED,
            amount_minor=amount_minor,
            currency=currency,
            idempotency_key=f"adjustment:{uuid.uuid4()}",
            description=reason[:500],
            completed_at=timezone.now(),
            created_by=actor,
        )
        signed = amount_minor if direction == Direction.CREDIT else -amount_minor
        transfer_post(
            kind=TransferKind.ADJUSTMENT,
            reference=f"adjustment:{tx.pk}",
            legs=[(wallet, signed), (counter, -signed)],
            description=reason,
            created_by=actor,
        )
        audit_record(
            action="wallet.adjustment",
            actor=actor,
            target=tx,
            changes={
                "user": str(user_id),
                "direction": direction,
                "amount": amount_format(amount_minor, currency),
                "currency": currency,
                "counter_account": counter_account,
                "reason": reason,
            },
            client=client,
        )
        settled(tx)
    return tx
