"""Credentials never reach a log: every log record is redacted when it is made.

`install()` (called from the logging settings) wraps the standard library's log record
factory, so every record — Django's, a library's (django-ninja logs the whole
`Authorization` header at ERROR when its scheme is not Bearer), structlog's event dicts —
is redacted before any handler sees it: the console, Sentry's logging integration, pytest's
`caplog`. A filter on one handler would leave the others with the secret.

What is redacted: the value of an `Authorization` or `Cookie` header and of any key that
names a secret (password, token, secret, api key, session id, OTP, signature…), in a dict or
as `key=value` / `key: value` in text; credentials after an auth scheme (`Bearer x`,
`Basic x`); anything shaped like a JWT; the path segment after a prefix whose URLs carry a
credential (a signed file link: `secret_path_prefixes`). The access log, written without
the logging machinery, redacts its path with `redact_path`. This module imports nothing from
Django: settings import it.
"""

from __future__ import annotations

import logging
import re
from collections.abc import Callable
from typing import Any

REDACTED = "[redacted]"

# Keys whose value is a secret (a dict's keys; `key=value` and `key: value` in text).
_SECRET_NAMES = ("password", "passwd", "secret", "token", r"api[_-]?key", "authorization")
_SECRET_WORDS = "|".join((*_SECRET_NAMES, "cookie", "sessionid", "csrf", "otp", "signature"))
_SECRET_KEY = re.compile(_SECRET_WORDS, re.IGNORECASE)
_SECRET_KEY_NAMES = rf"(?:[a-z_-]*(?:{_SECRET_WORDS})[a-z_-]*)"
_PATTERNS: tuple[tuple[re.Pattern[str], str], ...] = (
    # A whole header value: `Authorization: Basic abc`, `Cookie: a=b; c=d`.
    (
        re.compile(r"(?i)\b((?:proxy-)?authorization|cookie|set-cookie)(['\"]?\s*[:=]\s*)[^\n]+"),
        rf"\1\2{REDACTED}",
    ),
    # Credentials after an auth scheme, anywhere in a message (a word after "token" only
    # when it is long enough to be one).
    (
        re.compile(r"(?i)\b(bearer|basic|digest)\s+[A-Za-z0-9._~+/=:-]{4,}"),
        rf"\1 {REDACTED}",
    ),
    (
        re.compile(r"(?i)\b(token|jwt|apikey)\s+[A-Za-z0-9._~+/=:-]{16,}"),
        rf"\1 {REDACTED}",
    ),
    # `password=…`, `"refresh_token": "…"`, `api_key: …`.
    (
        re.compile(rf"(?i)\b({_SECRET_KEY_NAMES})(['\"]?\s*[:=]\s*['\"]?)[^\s'\",;&}}]+"),
        rf"\1\2{REDACTED}",
    ),
    # A JSON Web Token, whatever surrounds it.
    (re.compile(r"\beyJ[A-Za-z0-9_-]{4,}\.[A-Za-z0-9_-]{4,}\.[A-Za-z0-9_-]*"), REDACTED),
)
_MAX_DEPTH = 6


_secret_paths: tuple[str, ...] = ()
_secret_path_pattern: re.Pattern[str] | None = None


def redact_text(text: str) -> str:
    for pattern, replacement in _PATTERNS:
        text = pattern.sub(replacement, text)
    if _secret_path_pattern is not None:
        text = _secret_path_pattern.sub(rf"\1{REDACTED}", text)
    return text


def redact_path(path: str) -> str:
    """A request path as it may be logged: the credential in a signed link replaced."""
    if not _secret_paths or not path.startswith(_secret_paths):
        return path
    for prefix in _secret_paths:
        if path.startswith(prefix):
            return prefix + REDACTED
    return path


def is_secret_key(key: Any) -> bool:
    return isinstance(key, str) and bool(_SECRET_KEY.search(key))


def _is_credential(value: Any) -> bool:
    # A count or a flag under a key like `tokens_revoked` is not a secret.
    return isinstance(value, str | bytes) and bool(value)


def redact(value: Any, depth: int = 0) -> Any:
    """`value` with every credential in it replaced (strings, and the values of dicts,
    lists and tuples, to a few levels); other values as they are."""
    if isinstance(value, str):
        return redact_text(value)
    if depth >= _MAX_DEPTH:
        return value
    if isinstance(value, dict):
        return {
            key: REDACTED
            if is_secret_key(key) and _is_credential(item)
            else redact(item, depth + 1)
            for key, item in value.items()
        }
    if isinstance(value, list | tuple):
        return type(value)(redact(item, depth + 1) for item in value)
    return value


def redact_record(record: logging.LogRecord) -> logging.LogRecord:
    record.msg = redact(record.msg)
    if record.args:
        record.args = redact(record.args)
    return record


def install(*, secret_path_prefixes: tuple[str, ...] = ()) -> None:
    """Redact every log record from now on (once per process). `secret_path_prefixes`: URL
    paths whose next segment is a credential (`/files/private/` + a signed token)."""
    global _secret_paths, _secret_path_pattern  # noqa: PLW0603 - set once, at settings time
    _secret_paths = tuple(secret_path_prefixes)
    _secret_path_pattern = (
        re.compile("(" + "|".join(map(re.escape, _secret_paths)) + r")[^\s/'\"?#]+")
        if _secret_paths
        else None
    )
    factory = logging.getLogRecordFactory()
    if getattr(factory, "redacts_credentials", False):
        return

    def redacting_factory(*args: Any, **kwargs: Any) -> logging.LogRecord:
        return redact_record(factory(*args, **kwargs))

    redacting: Callable[..., logging.LogRecord] = redacting_factory
    redacting.redacts_credentials = True  # type: ignore[attr-defined]
    logging.setLogRecordFactory(redacting)
