"""Payments (tessera.payments) and the wallet (tessera.wallet).

`PAYMENTS_PROVIDER` picks the gateway: `sandbox` (the embedded default: a checkout page and
webhooks served by Tessera itself, signed like Revio's) or `revio`. Production refuses the
sandbox unless `PAYMENTS_SANDBOX_ALLOWED=true`, and refuses to start without
`PAYMENTS_ENCRYPTION_KEYS` (see `payments_production_check`).
"""

from django.core.exceptions import ImproperlyConfigured

from config.settings.env import env

PAYMENTS_PROVIDERS = ("sandbox", "revio")
PAYMENTS_PROVIDER = env.str("PAYMENTS_PROVIDER", default="sandbox")
if PAYMENTS_PROVIDER not in PAYMENTS_PROVIDERS:
    raise ImproperlyConfigured(
        f"PAYMENTS_PROVIDER must be one of {', '.join(PAYMENTS_PROVIDERS)}, "
        f"not {PAYMENTS_PROVIDER!r}."
    )
# Where people and gateways reach this site: checkout pages of the sandbox, the webhook URL
# given to the gateway. `make run`'s HOST and PORT by default.
PAYMENTS_PUBLIC_URL = env.str(
    "PAYMENTS_PUBLIC_URL",
    default=f"http://{env.str('HOST', default='127.0.0.1')}:{env.str('PORT', default='8000')}",
).rstrip("/")
# Fernet keys (comma-separated, newest first: MultiFernet decrypts with any, encrypts with the
# first) for bank details at rest. Empty: a key derived from DJANGO_SECRET_KEY (development).
PAYMENTS_ENCRYPTION_KEYS = env.list("PAYMENTS_ENCRYPTION_KEYS", default=[])
PAYMENTS_ORDER_TTL_SECONDS = env.int("PAYMENTS_ORDER_TTL_SECONDS", default=3600)
# Orders and payouts still open this long are asked about at the gateway (reconciliation).
PAYMENTS_RECONCILE_AFTER_SECONDS = env.int("PAYMENTS_RECONCILE_AFTER_SECONDS", default=3600)
# A signed webhook older than this (by the time inside its signed body) is refused as stale.
# Revio retries for up to 36 hours.
PAYMENTS_WEBHOOK_MAX_AGE_SECONDS = env.int("PAYMENTS_WEBHOOK_MAX_AGE_SECONDS", default=48 * 3600)
# On PostgreSQL the webhook inbox's INSERT commits without waiting for the WAL flush
# (services/webhooks.py says why that is safe); money movements always wait.
PAYMENTS_WEBHOOK_ASYNC_COMMIT = env.bool("PAYMENTS_WEBHOOK_ASYNC_COMMIT", default=True)
PAYMENTS_WEBHOOK_MAX_ATTEMPTS = env.int("PAYMENTS_WEBHOOK_MAX_ATTEMPTS", default=8)
# Received deliveries are processed by drain tasks (one claims the next with SKIP LOCKED,
# processes it in its own transaction, and goes on until none is left), not a task each:
# at most this many drains are queued or running at once.
PAYMENTS_WEBHOOK_DRAINS = env.int("PAYMENTS_WEBHOOK_DRAINS", default=3)
# Kept webhook deliveries that were refused (forged, stale) are deleted after this many days.
PAYMENTS_WEBHOOK_REJECTED_RETENTION_DAYS = env.int(
    "PAYMENTS_WEBHOOK_REJECTED_RETENTION_DAYS", default=30
)

# --- Revio ----------------------------------------------------------------------------------
REVIO_API_URL = env.str("REVIO_API_URL", default="https://gate.reviopay.com/api/v1/")
REVIO_API_KEY = env.str("REVIO_API_KEY", default="")
REVIO_BRAND_ID = env.str("REVIO_BRAND_ID", default="")
# The webhook's public key (PEM; "\n" may be written as a literal backslash-n).
REVIO_WEBHOOK_PUBLIC_KEY = env.str("REVIO_WEBHOOK_PUBLIC_KEY", default="").replace("\\n", "\n")
REVIO_TIMEOUT_SECONDS = env.float("REVIO_TIMEOUT_SECONDS", default=10.0)
# What each webhook event name means. Revio publishes the purchase events; payout event names
# are not published, so every name is configurable (several names: separate with `;`).
REVIO_EVENT_NAMES = {
    "paid": "purchase.paid",
    "failed": "purchase.payment_failure",
    "cancelled": "purchase.cancelled",
    "expired": "purchase.expired",
    "refunded": "payment.refunded",
    "chargeback": "payment.chargeback",
    "payout_completed": "payout.success",
    "payout_failed": "payout.failed",
    **env.dict("REVIO_EVENT_NAMES", default={}),
}

# --- Sandbox --------------------------------------------------------------------------------
# The sandbox's webhook signing key (PEM). Empty: generated once into TESSERA_VAR_DIR.
PAYMENTS_SANDBOX_PRIVATE_KEY = env.str("PAYMENTS_SANDBOX_PRIVATE_KEY", default="").replace(
    "\\n", "\n"
)
PAYMENTS_SANDBOX_ALLOWED = env.bool("PAYMENTS_SANDBOX_ALLOWED", default=False)
PAYMENTS_SANDBOX_PAYOUT_DELAY_SECONDS = env.float(
    "PAYMENTS_SANDBOX_PAYOUT_DELAY_SECONDS", default=5.0
)
# Sandbox only: a payout to this account number fails (to try the failure path).
PAYMENTS_SANDBOX_FAILING_ACCOUNT = env.str("PAYMENTS_SANDBOX_FAILING_ACCOUNT", default="0000000000")
PAYMENTS_SANDBOX_WEBHOOK_URL = env.str(
    "PAYMENTS_SANDBOX_WEBHOOK_URL", default=f"{PAYMENTS_PUBLIC_URL}/webhooks/sandbox"
)
PAYMENTS_SANDBOX_WEBHOOK_MAX_ATTEMPTS = env.int("PAYMENTS_SANDBOX_WEBHOOK_MAX_ATTEMPTS", default=10)

# --- Wallet ---------------------------------------------------------------------------------
WALLET_WITHDRAWAL_RATE = env.str("WALLET_WITHDRAWAL_RATE", default="5/hour")
# Limits in the currency's major units ("10.00" is R 10.00, $ 10.00, ...).
WALLET_DEPOSIT_MIN = env.str("WALLET_DEPOSIT_MIN", default="1.00")
WALLET_DEPOSIT_MAX = env.str("WALLET_DEPOSIT_MAX", default="100000.00")
WALLET_WITHDRAWAL_MIN = env.str("WALLET_WITHDRAWAL_MIN", default="10.00")
WALLET_WITHDRAWAL_MAX = env.str("WALLET_WITHDRAWAL_MAX", default="50000.00")
# Deposits that never reached the gateway are expired after this many seconds.
WALLET_RECONCILE_AFTER_SECONDS = env.int("WALLET_RECONCILE_AFTER_SECONDS", default=3600)


def payments_production_check(values: dict[str, object]) -> None:
    """Called at the end of config/settings/prod.py with its settings: what production
    refuses to start with."""
    provider = values["PAYMENTS_PROVIDER"]
    if provider == "sandbox":
        if not values["PAYMENTS_SANDBOX_ALLOWED"]:
            raise ImproperlyConfigured(
                "PAYMENTS_PROVIDER is sandbox (no real money moves): set PAYMENTS_PROVIDER=revio, "
                "or PAYMENTS_SANDBOX_ALLOWED=true for a demonstration site."
            )
        if not values["PAYMENTS_SANDBOX_PRIVATE_KEY"]:
            raise ImproperlyConfigured(
                "PAYMENTS_SANDBOX_PRIVATE_KEY (a PEM RSA key) must be set for the sandbox in "
                "production: every process must sign with the same key."
            )
    if provider == "revio":
        missing = [
            name
            for name in ("REVIO_API_KEY", "REVIO_BRAND_ID", "REVIO_WEBHOOK_PUBLIC_KEY")
            if not values[name]
        ]
        if missing:
            raise ImproperlyConfigured(f"Revio needs {', '.join(missing)} in production.")
    if not values["PAYMENTS_ENCRYPTION_KEYS"]:
        raise ImproperlyConfigured(
            "PAYMENTS_ENCRYPTION_KEYS must hold at least one Fernet key in production "
            "(python -c 'from cryptography.fernet import Fernet; print(Fernet.generate_key())')."
        )
