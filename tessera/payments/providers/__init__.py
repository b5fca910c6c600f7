"""Payment gateways: a base class (base.PaymentProvider) and a registry keyed by name, chosen
by `PAYMENTS_PROVIDER` (`sandbox`, the embedded default, or `revio`)."""

from __future__ import annotations

from django.conf import settings

from tessera.payments.providers.base import (
    Checkout,
    CheckoutRequest,
    PaymentProvider,
    PayoutRequest,
    PayoutSubmission,
    ProviderError,
    ProviderEvent,
    ProviderRefusedError,
    RefundResult,
)


def provider_get(name: str | None = None) -> PaymentProvider:
    """The adapter for `name` (default: the configured provider). Cheap to make: each call
    reads the current settings."""
    name = name or settings.PAYMENTS_PROVIDER
    if name == "revio":
        from tessera.payments.providers.revio import RevioProvider

        return RevioProvider()
    if name == "sandbox":
        from tessera.payments.providers.sandbox import SandboxProvider

        return SandboxProvider()
    raise KeyError(name)


def webhook_provider(name: str) -> PaymentProvider | None:
    """The adapter whose webhooks `/webhooks/<name>` takes: only the configured provider's."""
    if name != settings.PAYMENTS_PROVIDER:
        return None
    return provider_get(name)


def callback_url(name: str | None = None) -> str:
    name = name or settings.PAYMENTS_PROVIDER
    if name == "sandbox":
        return str(settings.PAYMENTS_SANDBOX_WEBHOOK_URL)
    return f"{settings.PAYMENTS_PUBLIC_URL}/webhooks/{name}"


__all__ = [
    "Checkout",
    "CheckoutRequest",
    "PaymentProvider",
    "PayoutRequest",
    "PayoutSubmission",
    "ProviderError",
    "ProviderEvent",
    "ProviderRefusedError",
    "RefundResult",
    "callback_url",
    "provider_get",
    "webhook_provider",
]
