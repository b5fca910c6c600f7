"""Ed25519 ticket-signing keys of organisers, encrypted at rest.

The private key is kept as a Fernet token (`cryptography`'s MultiFernet: the first secret of
`EVENTS_KEY_ENCRYPTION_KEYS` encrypts, every one decrypts, so the secret rotates with
`keys_reencrypt`). A key id is the first 8 bytes of the SHA-256 of the raw public key, in
hex: stable, short, and the same wherever the public key is known.
"""

from __future__ import annotations

import base64
import hashlib
from functools import lru_cache
from typing import Any

from cryptography.fernet import Fernet, MultiFernet
from cryptography.hazmat.primitives import serialization
from cryptography.hazmat.primitives.asymmetric.ed25519 import Ed25519PrivateKey, Ed25519PublicKey
from django.conf import settings


def b64url(data: bytes) -> str:
    return base64.urlsafe_b64encode(data).rstrip(b"=").decode()


def b64url_decode(text: str) -> bytes:
    return base64.urlsafe_b64decode(text + "=" * (-len(text) % 4))


def _secrets() -> list[str]:
    return list(settings.EVENTS_KEY_ENCRYPTION_KEYS) or [settings.SECRET_KEY]


@lru_cache(maxsize=4)
def _fernet(secrets: tuple[str, ...]) -> MultiFernet:
    keys = [
        Fernet(
            base64.urlsafe_b64encode(hashlib.sha256(b"tessera.events.keys\0" + s.encode()).digest())
        )
        for s in secrets
    ]
    return MultiFernet(keys)


def fernet() -> MultiFernet:
    return _fernet(tuple(_secrets()))


def key_id_of(public_raw: bytes) -> str:
    return hashlib.sha256(public_raw).digest()[:8].hex()


def generate() -> tuple[str, str, str]:
    """A new key pair: (key id, public key base64url, encrypted private key)."""
    private = Ed25519PrivateKey.generate()
    public_raw = private.public_key().public_bytes(
        encoding=serialization.Encoding.Raw, format=serialization.PublicFormat.Raw
    )
    private_raw = private.private_bytes(
        encoding=serialization.Encoding.Raw,
        format=serialization.PrivateFormat.Raw,
        encryption_algorithm=serialization.NoEncryption(),
    )
    encrypted = fernet().encrypt(private_raw).decode()
    return key_id_of(public_raw), b64url(public_raw), encrypted


@lru_cache(maxsize=256)
def private_key(encrypted: str) -> Ed25519PrivateKey:
    return Ed25519PrivateKey.from_private_bytes(fernet().decrypt(encrypted.encode()))


@lru_cache(maxsize=1024)
def public_key(public_b64: str) -> Ed25519PublicKey:
    return Ed25519PublicKey.from_public_bytes(b64url_decode(public_b64))


def reencrypt(encrypted: str) -> str:
    """The same private key under the current first secret."""
    return fernet().rotate(encrypted.encode()).decode()


def jwk(*, key_id: str, public_b64: str, active: bool) -> dict[str, Any]:
    """The public key as a JSON Web Key (RFC 8037), as any JOSE library reads it."""
    return {
        "kty": "OKP",
        "crv": "Ed25519",
        "x": public_b64,
        "kid": key_id,
        "use": "sig",
        "alg": "EdDSA",
        "active": active,
    }
