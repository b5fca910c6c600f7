"""The access-token check on the hot path, compared with PyJWT on valid and forged tokens:
it must accept exactly what PyJWT accepts for HS256 with a listed key (and be stricter only
where noted)."""

from __future__ import annotations

import base64
import hashlib
import hmac
import json
import time
from typing import Any

import jwt
import pytest
from django.conf import settings

from tessera.accounts.tokens import access_token_claims

KEY = "k1"


def _b64(raw: bytes) -> str:
    return base64.urlsafe_b64encode(raw).rstrip(b"=").decode()


def _secret() -> str:
    return str(dict(settings.JWT_SIGNING_KEYS)[KEY])


def forge(
    header: dict[str, Any] | Any,
    claims: dict[str, Any] | Any,
    *,
    secret: str | None = None,
    digest: Any = hashlib.sha256,
) -> str:
    signing_input = f"{_b64(json.dumps(header).encode())}.{_b64(json.dumps(claims).encode())}"
    mac = hmac.new((secret or _secret()).encode(), signing_input.encode(), digest).digest()
    return f"{signing_input}.{_b64(mac)}"


def claims(**changes: Any) -> dict[str, Any]:
    now = int(time.time())
    base: dict[str, Any] = {
        "sub": "0190a5f3-0000-7000-8000-000000000001",
        "type": "access",
        "iat": now,
        "exp": now + 300,
        "jti": "x",
        "iss": settings.JWT_ISSUER,
    }
    base.update(changes)
    return {name: value for name, value in base.items() if value is not _DROP}


_DROP = object()
HEADER = {"alg": "HS256", "kid": KEY, "typ": "JWT"}


def pyjwt_accepts(token: str) -> bool:
    try:
        kid = jwt.get_unverified_header(token).get("kid")
        key = dict(settings.JWT_SIGNING_KEYS).get(str(kid or ""))
        if key is None:
            return False
        decoded = jwt.decode(
            token,
            key,
            algorithms=["HS256"],
            issuer=settings.JWT_ISSUER,
            options={"require": ["exp", "iat", "sub", "type"]},
        )
    except jwt.PyJWTError:
        return False
    return bool(decoded.get("type") == "access")


def _tampered() -> str:
    header, _payload, signature = forge(HEADER, claims()).split(".")
    return f"{header}.{_b64(json.dumps(claims(sub='someone-else')).encode())}.{signature}"


def _bad_signature_alphabet() -> str:
    return forge(HEADER, claims())[:-2] + "*!"


CASES: dict[str, tuple[Any, bool]] = {
    "valid": (lambda: forge(HEADER, claims()), True),
    "valid without typ": (lambda: forge({"alg": "HS256", "kid": KEY}, claims()), True),
    "alg none": (
        lambda: forge({"alg": "none", "kid": KEY}, claims()).rsplit(".", 1)[0] + ".",
        False,
    ),
    "alg HS512": (
        lambda: forge({"alg": "HS512", "kid": KEY}, claims(), digest=hashlib.sha512),
        False,
    ),
    "another key": (lambda: forge(HEADER, claims(), secret="not-the-key" * 4), False),
    "unknown kid": (lambda: forge({**HEADER, "kid": "k9"}, claims()), False),
    "no kid": (lambda: forge({"alg": "HS256"}, claims()), False),
    "crit header": (lambda: forge({**HEADER, "crit": ["exp"]}, claims()), False),
    "header not an object": (lambda: forge(["HS256"], claims()), False),
    "tampered payload": (_tampered, False),
    "signature outside the alphabet": (_bad_signature_alphabet, False),
    "two segments": (lambda: forge(HEADER, claims()).rsplit(".", 1)[0], False),
    "four segments": (lambda: forge(HEADER, claims()) + ".x", False),
    "expired": (lambda: forge(HEADER, claims(exp=int(time.time()) - 1)), False),
    "no exp": (lambda: forge(HEADER, claims(exp=_DROP)), False),
    "exp not a number": (lambda: forge(HEADER, claims(exp="soon")), False),
    "issued in the future": (lambda: forge(HEADER, claims(iat=int(time.time()) + 60)), False),
    "no iat": (lambda: forge(HEADER, claims(iat=_DROP)), False),
    "not before the future": (lambda: forge(HEADER, claims(nbf=int(time.time()) + 60)), False),
    "not before the past": (lambda: forge(HEADER, claims(nbf=int(time.time()) - 60)), True),
    "another issuer": (lambda: forge(HEADER, claims(iss="evil")), False),
    "no issuer": (lambda: forge(HEADER, claims(iss=_DROP)), False),
    "an audience": (lambda: forge(HEADER, claims(aud="someone")), False),
    "a refresh token": (lambda: forge(HEADER, claims(type="refresh")), False),
    "no type": (lambda: forge(HEADER, claims(type=_DROP)), False),
    "sub not a string": (lambda: forge(HEADER, claims(sub=42)), False),
    "no sub": (lambda: forge(HEADER, claims(sub=_DROP)), False),
    "payload not an object": (lambda: forge(HEADER, ["access"]), False),
}


@pytest.mark.parametrize("case", list(CASES))
def test_the_hot_path_check_agrees_with_pyjwt(case: str) -> None:
    make, accepted = CASES[case]
    token = make()

    assert (access_token_claims(token) is not None) is accepted
    assert pyjwt_accepts(token) is accepted


def test_numeric_strings_as_dates_are_refused_where_pyjwt_would_accept_them() -> None:
    # RFC 7519 NumericDate is a JSON number; PyJWT also takes "1234" (int("1234")).
    token = forge(HEADER, claims(exp=str(int(time.time()) + 300)))

    assert access_token_claims(token) is None


def test_a_token_issued_by_the_service_is_accepted(user: Any) -> None:
    from tessera.accounts.tokens import access_token_issue

    found = access_token_claims(access_token_issue(user=user))

    assert found is not None
    assert found["sub"] == str(user.pk)
