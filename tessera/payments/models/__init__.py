"""Payment orders, payouts, their money movements, the webhook inbox and the sandbox gateway's
own records."""

from tessera.payments.models.orders import (
    PURPOSE_PATTERN,
    OrderStatus,
    PaymentOrder,
    PaymentTransaction,
    Payout,
    PayoutStatus,
    TransactionKind,
    TransactionStatus,
)
from tessera.payments.models.sandbox import (
    SandboxPayout,
    SandboxPayoutStatus,
    SandboxPurchase,
    SandboxPurchaseStatus,
    SandboxWebhook,
)
from tessera.payments.models.webhooks import DeliveryState, SignatureVerdict, WebhookDelivery

__all__ = [
    "PURPOSE_PATTERN",
    "DeliveryState",
    "OrderStatus",
    "PaymentOrder",
    "PaymentTransaction",
    "Payout",
    "PayoutStatus",
    "SandboxPayout",
    "SandboxPayoutStatus",
    "SandboxPurchase",
    "SandboxPurchaseStatus",
    "SandboxWebhook",
    "SignatureVerdict",
    "TransactionKind",
    "TransactionStatus",
    "WebhookDelivery",
]
