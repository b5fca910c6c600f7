"""Webhook signatures in Revio's scheme: `X-Signature` is the base64 of an RSA PKCS#1 v1.5
signature over the SHA-256 digest of the raw body, checked with the webhook's public key."""

from __future__ import annotations

import base64
import binascii
import contextlib
import os
from functools import lru_cache
from pathlib import Path

from cryptography.exceptions import InvalidSignature
from cryptography.hazmat.primitives import hashes, serialization
from cryptography.hazmat.primitives.asymmetric import padding, rsa

SIGNATURE_HEADER = "X-Signature"


class SignatureError(Exception):
    """`missing`, `malformed` or `invalid`."""

    def __init__(self, verdict: str) -> None:
        super().__init__(verdict)
        self.verdict = verdict


@lru_cache(maxsize=8)
def public_key_from_pem(pem: str) -> rsa.RSAPublicKey:
    key = serialization.load_pem_public_key(pem.strip().encode())
    if not isinstance(key, rsa.RSAPublicKey):
        raise TypeError("The webhook public key must be an RSA key.")
    return key


@lru_cache(maxsize=8)
def private_key_from_pem(pem: str) -> rsa.RSAPrivateKey:
    key = serialization.load_pem_private_key(pem.strip().encode(), password=None)
    if not isinstance(key, rsa.RSAPrivateKey):
        raise TypeError("The signing key must be an RSA key.")
    return key


def public_pem(private_key: rsa.RSAPrivateKey) -> str:
    return (
        private_key.public_key()
        .public_bytes(serialization.Encoding.PEM, serialization.PublicFormat.SubjectPublicKeyInfo)
        .decode()
    )


@lru_cache(maxsize=8)
def public_key_of_private_pem(pem: str) -> str:
    """The public key (PEM) of the private key `pem`, derived once per key text: the sandbox
    checks every webhook with it, and a changed key is a different text, so a new entry."""
    return public_pem(private_key_from_pem(pem))


def private_pem(private_key: rsa.RSAPrivateKey) -> str:
    return private_key.private_bytes(
        serialization.Encoding.PEM,
        serialization.PrivateFormat.PKCS8,
        serialization.NoEncryption(),
    ).decode()


def sign(body: bytes, private_key: rsa.RSAPrivateKey) -> str:
    return base64.b64encode(private_key.sign(body, padding.PKCS1v15(), hashes.SHA256())).decode()


def verify(body: bytes, signature: str | None, public_key: rsa.RSAPublicKey) -> None:
    """Raise SignatureError unless `signature` signs exactly `body`."""
    if not signature or not signature.strip():
        raise SignatureError("missing")
    try:
        raw = base64.b64decode(signature.strip(), validate=True)
    except (binascii.Error, ValueError):
        raise SignatureError("malformed") from None
    try:
        public_key.verify(raw, body, padding.PKCS1v15(), hashes.SHA256())
    except InvalidSignature:
        raise SignatureError("invalid") from None


def generate_private_key() -> rsa.RSAPrivateKey:
    return rsa.generate_private_key(public_exponent=65537, key_size=2048)


def key_file_load_or_create(path: Path) -> str:
    """The PEM private key kept at `path`, generated the first time. Processes starting
    together agree on one key: each writes its own candidate and links it into place, and
    the link only succeeds for the first."""
    if path.exists():
        return path.read_text()
    path.parent.mkdir(parents=True, exist_ok=True)
    candidate = path.with_name(f".{path.name}.{os.getpid()}.tmp")
    candidate.write_text(private_pem(generate_private_key()))
    candidate.chmod(0o600)
    try:
        os.link(candidate, path)
    except FileExistsError:
        pass
    finally:
        with contextlib.suppress(FileNotFoundError):
            candidate.unlink()
    return path.read_text()
