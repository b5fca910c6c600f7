"""Error codes of the payments module."""

from __future__ import annotations

from django.utils.translation import gettext_lazy as _

from tessera.core.errors import (
    ApplicationError,
    ConflictError,
    ErrorCode,
    InvalidInputError,
    NotFoundError,
)


class PaymentsErrorCode(ErrorCode):
    ORDER_NOT_FOUND = "payment_order_not_found"
    PAYOUT_NOT_FOUND = "payout_not_found"
    ORDER_STATE = "payment_order_state"
    PAYOUT_STATE = "payout_state"
    REFUND_TOO_LARGE = "refund_too_large"
    IDEMPOTENCY_MISMATCH = "payment_idempotency_mismatch"
    PROVIDER_UNAVAILABLE = "payment_provider_unavailable"
    PROVIDER_REFUSED = "payment_provider_refused"
    BANK_DETAILS_INVALID = "bank_details_invalid"
    WEBHOOK_PROVIDER_UNKNOWN = "webhook_provider_unknown"
    WEBHOOK_SIGNATURE_MISSING = "webhook_signature_missing"
    WEBHOOK_SIGNATURE_INVALID = "webhook_signature_invalid"
    WEBHOOK_MALFORMED = "webhook_malformed"
    WEBHOOK_STALE = "webhook_stale"
    SANDBOX_PURCHASE_CLOSED = "sandbox_purchase_closed"


class PaymentOrderNotFoundError(NotFoundError):
    code: str = PaymentsErrorCode.ORDER_NOT_FOUND
    default_message = _("The payment order was not found.")


class PayoutNotFoundError(NotFoundError):
    code: str = PaymentsErrorCode.PAYOUT_NOT_FOUND
    default_message = _("The payout was not found.")


class PaymentOrderStateError(ConflictError):
    code: str = PaymentsErrorCode.ORDER_STATE
    default_message = _("The payment order cannot do that in its current state.")


class RefundTooLargeError(InvalidInputError):
    code: str = PaymentsErrorCode.REFUND_TOO_LARGE
    default_message = _("The refund is larger than what is left to refund.")


class IdempotencyMismatchError(InvalidInputError):
    """The same idempotency key with a different request (amount, currency, owner)."""

    code: str = PaymentsErrorCode.IDEMPOTENCY_MISMATCH
    default_message = _("This idempotency key was already used for a different payment.")


class PaymentProviderUnavailableError(ApplicationError):
    """The gateway did not answer, or answered with a server error: try again."""

    status_code = 503
    code: str = PaymentsErrorCode.PROVIDER_UNAVAILABLE
    default_message = _("The payment gateway is not available right now. Try again shortly.")


class PaymentProviderRefusedError(ApplicationError):
    """The gateway refused the request (a 4xx): retrying the same request will not help."""

    status_code = 502
    code: str = PaymentsErrorCode.PROVIDER_REFUSED
    default_message = _("The payment gateway refused the request.")


class BankDetailsInvalidError(InvalidInputError):
    code: str = PaymentsErrorCode.BANK_DETAILS_INVALID
    default_message = _("The bank details are not valid.")


class SandboxPurchaseClosedError(ConflictError):
    code: str = PaymentsErrorCode.SANDBOX_PURCHASE_CLOSED
    default_message = _("This checkout is already closed.")


class WebhookRejectedError(ApplicationError):
    """A delivery refused at the door (kept as `rejected`); `verdict` says why."""

    def __init__(self, *, verdict: str, code: str, status_code: int, message: object) -> None:
        super().__init__(message, code=code, status_code=status_code)
        self.verdict = verdict
