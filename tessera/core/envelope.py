"""The success and error envelopes every API reply is wrapped in (DESIGN.md, API conventions)."""

from __future__ import annotations

import time
from typing import Any

import orjson
from django.http import HttpResponse

JSON_CONTENT_TYPE = "application/json; charset=utf-8"


# The "YYYY-MM-DDTHH:MM:SS." of the current second, formatted once per second: every reply
# carries a timestamp, and strftime is most of what writing one costs.
_second_prefix: tuple[int, str] = (-1, "")
_clock = time.time


def utc_timestamp() -> str:
    """Now in UTC to the millisecond, as `2026-12-02T16:37:08.123Z` (as orjson writes times)."""
    global _second_prefix  # noqa: PLW0603 - one tuple, replaced whole: safe across threads
    now = _clock()
    second = int(now)
    # Rounded to the microsecond first, as `datetime.fromtimestamp` does.
    microsecond = round((now - second) * 1_000_000)
    if microsecond == 1_000_000:
        second, microsecond = second + 1, 0
    cached = _second_prefix
    if cached[0] != second:
        cached = (second, time.strftime("%Y-%m-%dT%H:%M:%S.", time.gmtime(second)))
        _second_prefix = cached
    return f"{cached[1]}{microsecond // 1000:03d}Z"


def _default(value: Any) -> Any:
    # orjson handles datetimes, UUIDs, dataclasses; the rest (Decimal, lazy strings) go here.
    return str(value)


def dumps(payload: Any) -> bytes:
    return orjson.dumps(payload, default=_default, option=orjson.OPT_UTC_Z)


_OK_MESSAGE = b',"message":"OK"'


def success_body_around(data: bytes, message: str = "OK") -> bytes:
    """The success envelope around `data`, JSON already serialised (a cached document), by
    concatenation: the same bytes `dumps(success_payload(...))` would give, without parsing
    the data again."""
    return b"".join(
        (
            b'{"status":"success","data":',
            data,
            _OK_MESSAGE if message == "OK" else b',"message":' + orjson.dumps(message),
            b',"timestamp":"',
            utc_timestamp().encode(),
            b'"}',
        )
    )


def success_response_around(data: bytes, message: str = "OK") -> HttpResponse:
    """A 200 reply whose `data` is JSON already serialised (kept in a cache)."""
    response = HttpResponse(success_body_around(data, message), content_type=JSON_CONTENT_TYPE)
    response.tessera_envelope = True  # type: ignore[attr-defined]
    return response


def success_payload(data: Any, message: str = "OK") -> dict[str, Any]:
    return {"status": "success", "data": data, "message": message, "timestamp": utc_timestamp()}


def error_payload(
    *,
    code: str,
    message: str,
    fields: dict[str, Any] | None = None,
    request_id: str | None = None,
    extra: dict[str, Any] | None = None,
) -> dict[str, Any]:
    error: dict[str, Any] = {"code": code, "message": str(message)}
    if fields:
        error["fields"] = fields
    if extra:
        error.update(extra)
    if request_id:
        error["requestId"] = request_id
    return {"status": "error", "error": error, "timestamp": utc_timestamp()}
