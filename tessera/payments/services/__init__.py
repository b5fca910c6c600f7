"""Every write of the payments module. Products use only what `__all__` lists (and
`tessera.payments.selectors`, `hooks`, `schemas`)."""

from tessera.payments.bank import bank_details_mask, bank_details_validate
from tessera.payments.selectors import payment_order_get, payout_get
from tessera.payments.services.common import (
    EventMismatchError,
    NotYetApplicableError,
    UnhandledPurposeError,
    UnknownObjectError,
)
from tessera.payments.services.orders import (
    order_apply_event,
    payment_order_cancel,
    payment_order_create,
    payment_refund,
)
from tessera.payments.services.payouts import (
    payout_apply_event,
    payout_create,
    payout_submit,
)
from tessera.payments.services.reconcile import (
    ReconcileResult,
    SweepResult,
    order_reconcile,
    payments_reconcile,
    payments_sweep,
    payout_reconcile,
)
from tessera.payments.services.webhooks import (
    DRAIN_NAME as WEBHOOK_DRAIN_NAME,
)
from tessera.payments.services.webhooks import (
    DrainResult,
    WebhookReceipt,
    event_apply,
    webhook_process,
    webhook_receive,
    webhook_record_failure,
    webhook_replay,
    webhooks_drain,
)

__all__ = [
    "WEBHOOK_DRAIN_NAME",
    "DrainResult",
    "EventMismatchError",
    "NotYetApplicableError",
    "ReconcileResult",
    "SweepResult",
    "UnhandledPurposeError",
    "UnknownObjectError",
    "WebhookReceipt",
    "bank_details_mask",
    "bank_details_validate",
    "event_apply",
    "order_apply_event",
    "order_reconcile",
    "payment_order_cancel",
    "payment_order_create",
    "payment_order_get",
    "payment_refund",
    "payments_reconcile",
    "payments_sweep",
    "payout_apply_event",
    "payout_create",
    "payout_get",
    "payout_reconcile",
    "payout_submit",
    "webhook_process",
    "webhook_receive",
    "webhook_record_failure",
    "webhook_replay",
    "webhooks_drain",
]
