"""A ticket's secret, its short code and its QR code.

The secret is a compact JWS (RFC 7515, `alg: EdDSA`, RFC 8037) signed with the organiser's
Ed25519 key: header `{"alg": "EdDSA", "kid": …}`, claims `e` (event id), `t` (ticket id),
`h` (holder id) as 32 hex digits, `iat` (issued, seconds) and `exp` (the event's end plus
`EVENTS_TICKET_GRACE_HOURS`). A door app holding the organiser's public keys
(`GET /api/events/{id}/ticket-key`, a JWKS) verifies it with any JOSE library, offline.
Ed25519 signatures are deterministic, so the secret is computed from the ticket's columns
whenever it is shown and never stored.

The code is 8 characters from an alphabet without look-alikes (no 0/O, 1/I/L), unique per
event, for typing when a QR code will not scan.
"""

from __future__ import annotations

import io
import secrets
from dataclasses import dataclass
from datetime import datetime, timedelta
from functools import lru_cache
from typing import Any
from uuid import UUID

import jwt
import segno
from django.conf import settings

from tessera.events import keys

CODE_ALPHABET = "ABCDEFGHJKMNPQRSTUVWXYZ23456789"
CODE_LENGTH = 8
_CLAIMS = ("e", "t", "h", "iat", "exp")


def code_new() -> str:
    return "".join(secrets.choice(CODE_ALPHABET) for _ in range(CODE_LENGTH))


def code_normalise(text: str) -> str:
    """What a person typed, as stored: upper case, without spaces or dashes."""
    return "".join(ch for ch in text.upper() if ch.isalnum())


def expires_at(ends_at: datetime) -> datetime:
    return ends_at + timedelta(hours=settings.EVENTS_TICKET_GRACE_HOURS)


def secret_sign(
    *,
    event_id: UUID,
    ticket_id: UUID,
    holder_id: UUID,
    issued_at: datetime,
    ends_at: datetime,
    key_id: str,
    private_key_encrypted: str,
) -> str:
    claims = {
        "e": event_id.hex,
        "t": ticket_id.hex,
        "h": holder_id.hex,
        "iat": int(issued_at.timestamp()),
        "exp": int(expires_at(ends_at).timestamp()),
    }
    return jwt.encode(
        claims,
        keys.private_key(private_key_encrypted),
        algorithm="EdDSA",
        headers={"kid": key_id, "typ": None},
    )


@dataclass(frozen=True)
class Claims:
    event_id: UUID
    ticket_id: UUID
    holder_id: UUID
    key_id: str


class SecretUnknownError(Exception):
    """Not a secret we signed (malformed, unknown key, bad signature)."""


class SecretExpiredError(Exception):
    def __init__(self, claims: Claims) -> None:
        super().__init__("expired")
        self.claims = claims


def secret_key_id(secret: str) -> str:
    try:
        header = jwt.get_unverified_header(secret)
    except jwt.InvalidTokenError:
        raise SecretUnknownError from None
    kid = header.get("kid")
    if header.get("alg") != "EdDSA" or not isinstance(kid, str) or len(kid) > 16:
        raise SecretUnknownError
    return kid


def _claims(payload: dict[str, Any], key_id: str) -> Claims:
    try:
        return Claims(
            event_id=UUID(hex=str(payload["e"])),
            ticket_id=UUID(hex=str(payload["t"])),
            holder_id=UUID(hex=str(payload["h"])),
            key_id=key_id,
        )
    except (KeyError, ValueError):
        raise SecretUnknownError from None


def secret_verify(secret: str, *, public_b64: str, key_id: str) -> Claims:
    """The claims of a secret signed by this key; `SecretExpiredError` past its `exp`."""
    try:
        payload = jwt.decode(
            secret,
            keys.public_key(public_b64),
            algorithms=["EdDSA"],
            options={"require": list(_CLAIMS)},
        )
    except jwt.ExpiredSignatureError:
        unverified = jwt.decode(secret, options={"verify_signature": False})
        raise SecretExpiredError(_claims(unverified, key_id)) from None
    except jwt.InvalidTokenError:
        raise SecretUnknownError from None
    return _claims(payload, key_id)


@lru_cache(maxsize=512)
def _qr(secret: str) -> segno.QRCode:
    return segno.make(secret, error="m", micro=False)


def qr_png(secret: str, *, scale: int = 6) -> bytes:
    out = io.BytesIO()
    _qr(secret).save(out, kind="png", scale=scale, border=4)
    return out.getvalue()


def qr_svg(secret: str, *, scale: int = 6) -> bytes:
    out = io.BytesIO()
    _qr(secret).save(out, kind="svg", scale=scale, border=4, xmldecl=True)
    return out.getvalue()
