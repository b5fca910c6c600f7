"""The HTTP ceiling: a bare WSGI callable answering with the same bytes as Tessera's
`GET /api/ping` (the envelope, a fresh millisecond UTC timestamp, the same content type).

It ignores the path and does no routing, middleware or logging: whatever a framework adds
on top of this is what the other apps in the comparison pay for.
"""

from __future__ import annotations

from collections.abc import Callable, Iterable
from datetime import UTC, datetime
from typing import Any

VERSION = "0.1.0"
_HEAD = b'{"status":"success","data":{"pong":true,"version":"' + VERSION.encode() + b'"}'
_HEAD += b',"message":"OK","timestamp":"'
_TAIL = b'"}'
CONTENT_TYPE = "application/json; charset=utf-8"


def timestamp() -> bytes:
    now = datetime.now(tz=UTC)
    return (now.strftime("%Y-%m-%dT%H:%M:%S.") + f"{now.microsecond // 1000:03d}Z").encode()


def body() -> bytes:
    return _HEAD + timestamp() + _TAIL


def application(environ: dict[str, Any], start_response: Callable[..., Any]) -> Iterable[bytes]:
    payload = body()
    start_response(
        "200 OK",
        [("Content-Type", CONTENT_TYPE), ("Content-Length", str(len(payload)))],
    )
    return [payload]
