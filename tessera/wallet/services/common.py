"""Helpers shared by the wallet services: limits, follow-ups after a status change."""

from __future__ import annotations

from decimal import ROUND_CEILING, ROUND_FLOOR, Decimal
from typing import Any

from django.utils.translation import gettext as _

from tessera.core.analytics import AnalyticsEvent, analytics_capture
from tessera.core.jobs import drain_on_commit
from tessera.core.money import amount_format, currency_exponent
from tessera.wallet import metrics
from tessera.wallet.errors import AmountAboveMaximumError, AmountBelowMinimumError
from tessera.wallet.models import WalletTransaction


def limit_minor(value: str, currency: str, *, upper: bool) -> int:
    """A limit written in major units ("10.00"), in minor units of `currency`."""
    scaled = Decimal(value).scaleb(currency_exponent(currency))
    return int(scaled.to_integral_value(rounding=ROUND_FLOOR if upper else ROUND_CEILING))


def limits_check(*, amount_minor: int, currency: str, minimum: str, maximum: str) -> None:
    low = limit_minor(minimum, currency, upper=False)
    high = limit_minor(maximum, currency, upper=True)
    if amount_minor < low:
        raise AmountBelowMinimumError(
            _("The smallest amount is %(amount)s %(currency)s.")
            % {"amount": amount_format(low, currency), "currency": currency},
            fields={"amount": _("Below the minimum.")},
        )
    if amount_minor > high:
        raise AmountAboveMaximumError(
            _("The largest amount is %(amount)s %(currency)s.")
            % {"amount": amount_format(high, currency), "currency": currency},
            fields={"amount": _("Above the maximum.")},
        )


_COMPLETED_EVENTS = {
    "deposit": AnalyticsEvent.DEPOSIT_COMPLETED,
    "withdrawal": AnalyticsEvent.WITHDRAWAL_COMPLETED,
}


def settled(tx: WalletTransaction) -> None:
    """After a transaction reached a final status (inside its transaction): the person is
    told once the change commits (by the notices drain, which sends what is due in
    batches), and the completion is counted."""
    from tessera.wallet.services.notices import NOTICE_DRAIN_NAME
    from tessera.wallet.tasks import notify_due

    # A second's wait gathers the notices of a busy second into one batch.
    drain_on_commit(notify_due, name=NOTICE_DRAIN_NAME, countdown=1)
    metrics.transaction_settled(str(tx.kind), str(tx.status))
    completed = _COMPLETED_EVENTS.get(str(tx.kind))
    if tx.status == "completed" and completed is not None:
        analytics_capture(
            distinct_id=str(tx.user_id),
            event=completed,
            properties={
                "transaction_id": str(tx.pk),
                "currency": tx.currency,
                "amount": amount_format(tx.amount_minor, tx.currency),
            },
        )


def same_request(tx: Any, *, amount_minor: int, currency: str) -> bool:
    return bool(tx.amount_minor == amount_minor and tx.currency == currency)
