"""A throwaway production environment for processes started on this machine: the tests that
run a deployment, the benchmarks and the local cluster (`scripts/cluster.py`).

`production_env()` gives `config.settings.prod` every secret it insists on, generated fresh
for this run, and says explicitly that no real provider is configured: email and SMS on the
console (`ALLOW_CONSOLE_DELIVERY`) and the sandbox payment gateway
(`PAYMENTS_SANDBOX_ALLOWED`). Production's own refusals (docs/decisions/0017, 0026) stay as
they are; this is the one place that knowingly satisfies them for a local run.
"""

from __future__ import annotations

import secrets

from cryptography.fernet import Fernet
from cryptography.hazmat.primitives import serialization
from cryptography.hazmat.primitives.asymmetric import rsa


def _rsa_private_pem() -> str:
    key = rsa.generate_private_key(public_exponent=65537, key_size=2048)
    return key.private_bytes(
        serialization.Encoding.PEM,
        serialization.PrivateFormat.PKCS8,
        serialization.NoEncryption(),
    ).decode()


def production_env(**overrides: str) -> dict[str, str]:
    """Environment variables for `config.settings.prod` with fresh secrets, no real
    providers and plain HTTP on loopback; `overrides` win."""
    env = {
        "DJANGO_SETTINGS_MODULE": "config.settings.prod",
        "DJANGO_SECRET_KEY": secrets.token_urlsafe(48),
        "JWT_SIGNING_KEYS": f"k1={secrets.token_urlsafe(48)}",
        "JWT_ACTIVE_KEY_ID": "k1",
        "DJANGO_ALLOWED_HOSTS": "127.0.0.1,localhost,testserver",
        "SECURE_SSL_REDIRECT": "false",
        "ALLOW_CONSOLE_DELIVERY": "true",
        "PAYMENTS_PROVIDER": "sandbox",
        "PAYMENTS_SANDBOX_ALLOWED": "true",
        "PAYMENTS_SANDBOX_PRIVATE_KEY": _rsa_private_pem(),
        "PAYMENTS_ENCRYPTION_KEYS": Fernet.generate_key().decode(),
        "EVENTS_KEY_ENCRYPTION_KEYS": secrets.token_urlsafe(32),
    }
    env.update(overrides)
    return env
