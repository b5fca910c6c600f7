"""Error codes of the wallet module."""

from __future__ import annotations

from django.utils.translation import gettext_lazy as _

from tessera.core.errors import ConflictError, ErrorCode, InvalidInputError, NotFoundError


class WalletErrorCode(ErrorCode):
    INSUFFICIENT_FUNDS = "insufficient_funds"
    AMOUNT_BELOW_MINIMUM = "amount_below_minimum"
    AMOUNT_ABOVE_MAXIMUM = "amount_above_maximum"
    TRANSACTION_NOT_FOUND = "transaction_not_found"
    ADJUSTMENT_INVALID = "adjustment_invalid"
    WALLET_NOT_EMPTY = "wallet_not_empty"


class InsufficientFundsError(InvalidInputError):
    code = WalletErrorCode.INSUFFICIENT_FUNDS
    default_message = _("The wallet does not hold enough for this.")


class AmountBelowMinimumError(InvalidInputError):
    code = WalletErrorCode.AMOUNT_BELOW_MINIMUM
    default_message = _("The amount is below the minimum.")


class AmountAboveMaximumError(InvalidInputError):
    code = WalletErrorCode.AMOUNT_ABOVE_MAXIMUM
    default_message = _("The amount is above the maximum.")


class TransactionNotFoundError(NotFoundError):
    code = WalletErrorCode.TRANSACTION_NOT_FOUND
    default_message = _("The transaction was not found.")


class AdjustmentInvalidError(InvalidInputError):
    code = WalletErrorCode.ADJUSTMENT_INVALID
    default_message = _("The adjustment is not valid.")


class LedgerUnbalancedError(RuntimeError):
    """A transfer whose entries do not sum to zero per currency: a bug, never client input."""


class WalletNotEmptyError(ConflictError):
    code = WalletErrorCode.WALLET_NOT_EMPTY
    default_message = _(
        "Withdraw your balance, and wait for withdrawals on their way, before deleting your "
        "account."
    )
