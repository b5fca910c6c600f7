"""Payments: a gateway layer (Revio, and the sandbox that speaks like it), orders and payouts,
their movements, and a webhook inbox. A platform app: it never imports a product; products
use it only through `services`, `selectors`, `hooks` and `schemas`.

The API products code against (docs/decisions/0026-payments-layer.md):

    from tessera.payments import services as payments
    from tessera.payments.hooks import OrderEvent, PayoutEvent, PaymentHandler, register

    order = payments.payment_order_create(
        owner_id=user.pk, purpose="events.ticket", reference=str(ticket.pk),
        amount_minor=15000, currency="ZAR", description="Ticket: Jazz night",
        success_url=None, failure_url=None, idempotency_key="...",
        expires_in=None,                      # timedelta; default PAYMENTS_ORDER_TTL_SECONDS
    )
    order.id, order.status, order.checkout_url, order.provider, order.provider_purchase_id
    payments.payment_refund(order_id=..., amount_minor=None, reason="...", idempotency_key="...")
    payments.payment_order_cancel(order_id=..., reason="")
    payments.payment_order_get(order_id=...)            # also in selectors
    payout = payments.payout_create(
        owner_id=..., purpose="wallet.withdrawal", reference=str(withdrawal.pk),
        amount_minor=..., currency=..., bank_details={...}, idempotency_key="...",
        description="",
    )
    payments.bank_details_validate(details) / payments.bank_details_mask(details)

    register("events.ticket", TicketPayments())   # a PaymentHandler, in AppConfig.ready()

Order statuses: created, pending, paid, failed, cancelled, expired, refunded,
partially_refunded. Payout statuses: created, processing, completed, failed.
"""
