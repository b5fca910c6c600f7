"""`Idempotency-Key` for POST routes: `@idempotent` (or `@idempotent(required=True)`) below
`@router.post(...)`. Every POST that creates something carries it (a schema test checks).

The first reply to `(caller, route, key)` is stored for `IDEMPOTENCY_TTL_SECONDS`; a replay
gets it unchanged with `Idempotent-Replayed: true`; the same key with another body is a 422;
a duplicate that arrives while the first is still running is a 409. A reply of 5xx or 429 is
not kept, so the client may retry with the same key. The header is declared as a parameter
of the operation, so it is in the OpenAPI schema and a malformed key is a 422 naming it.

A record left `processing` by a process that died mid-request is taken over after
`IDEMPOTENCY_ABANDONED_SECONDS`: the request runs again. Services that move money or create
orders therefore also keep the key (or an equivalent unique reference) in their own rows, so
a second run finds the first one's work instead of doing it twice.
"""

from __future__ import annotations

import hashlib
import inspect
from collections.abc import Callable
from contextlib import suppress
from datetime import timedelta
from functools import wraps
from typing import Annotated, Any, overload

import orjson
from django.conf import settings
from django.db import IntegrityError, transaction
from django.http import HttpRequest, HttpResponse
from django.utils import timezone
from django.utils.translation import gettext as _
from ninja import Header
from ninja.decorators import decorate_view
from ninja.utils import contribute_operation_args
from pydantic import StringConstraints

from tessera.core.client_ip import client_ip
from tessera.core.errors import ConflictError, CoreErrorCode, InvalidInputError
from tessera.core.models import IdempotencyRecord

HEADER = "Idempotency-Key"
REPLAYED_HEADER = "Idempotent-Replayed"
KEY_PATTERN = r"^[\x21-\x7e]{1,255}$"
_ARGUMENT = "tessera_idempotency_key"
_DESCRIPTION = (
    "A key of your choice (1-255 printable ASCII characters, a UUID is a good one) that makes "
    "this request safe to retry: the same key with the same body returns the first reply "
    "(with `Idempotent-Replayed: true`) instead of doing the work again; the same key with "
    "another body is a 422."
)
# Replies the client should be free to retry with the same key.
_NOT_KEPT = {429}

KeyValue = Annotated[str, StringConstraints(pattern=KEY_PATTERN, max_length=255)]


def _caller(request: HttpRequest) -> str:
    auth = getattr(request, "auth", None)
    user_id = getattr(auth, "pk", None)
    return f"user:{user_id}" if user_id is not None else f"ip:{client_ip(request)}"


def _request_hash(request: HttpRequest) -> str:
    digest = hashlib.sha256(request.META.get("QUERY_STRING", "").encode())
    if (request.content_type or "").startswith("multipart/"):
        # An upload is streamed to storage, never held in memory: its fingerprint is its
        # query and size (the file's own checksum is verified by the files module).
        digest.update(f"\n{request.META.get('CONTENT_LENGTH', '')}".encode())
        return digest.hexdigest()
    body = request.body
    # The same JSON sent with other spacing or key order is the same request.
    with suppress(orjson.JSONDecodeError):
        body = orjson.dumps(orjson.loads(body), option=orjson.OPT_SORT_KEYS)
    digest.update(b"\n" + body)
    return digest.hexdigest()


def _claim(request: HttpRequest, key: str) -> tuple[IdempotencyRecord, bool]:
    caller = _caller(request)
    route = f"{request.method} {request.path_info}"
    scope_hash = hashlib.sha256(f"{caller}\n{route}\n{key}".encode()).hexdigest()
    request_hash = _request_hash(request)
    now = timezone.now()
    IdempotencyRecord.objects.filter(scope_hash=scope_hash, expires_at__lte=now).delete()
    abandoned_before = now - timedelta(seconds=settings.IDEMPOTENCY_ABANDONED_SECONDS)
    IdempotencyRecord.objects.filter(
        scope_hash=scope_hash,
        state=IdempotencyRecord.State.PROCESSING,
        created_at__lte=abandoned_before,
    ).delete()
    try:
        with transaction.atomic():
            record = IdempotencyRecord.objects.create(
                scope_hash=scope_hash,
                caller=caller,
                route=route[:300],
                key=key,
                request_hash=request_hash,
                expires_at=now + timedelta(seconds=settings.IDEMPOTENCY_TTL_SECONDS),
            )
        return record, True
    except IntegrityError:
        existing = IdempotencyRecord.objects.filter(scope_hash=scope_hash).first()
        if existing is None:  # finished and purged between our insert and this read
            return _claim(request, key)
        if existing.request_hash != request_hash:
            raise InvalidInputError(
                _("This Idempotency-Key was already used with a different request body."),
                code=CoreErrorCode.IDEMPOTENCY_KEY_REUSED,
                fields={HEADER: _("Use a new key for a different request.")},
            ) from None
        return existing, False


def _store(run: Callable[..., HttpResponse]) -> Callable[..., HttpResponse]:
    @wraps(run)
    def inner(request: HttpRequest, *args: Any, **kwargs: Any) -> HttpResponse:
        response = run(request, *args, **kwargs)
        record: IdempotencyRecord | None = getattr(request, "_idempotency_record", None)
        if record is None:
            return response
        if response.status_code >= 500 or response.status_code in _NOT_KEPT:
            record.delete()
        else:
            record.state = IdempotencyRecord.State.COMPLETED
            record.response_status = response.status_code
            record.response_body = bytes(response.content)
            record.response_content_type = response.get("Content-Type", "")
            record.save(
                update_fields=[
                    "state",
                    "response_status",
                    "response_body",
                    "response_content_type",
                    "updated_at",
                ]
            )
        return response

    return inner


def _replay(record: IdempotencyRecord) -> HttpResponse:
    if record.state == IdempotencyRecord.State.PROCESSING:
        raise ConflictError(
            _("A request with this Idempotency-Key is still being processed."),
            code=CoreErrorCode.IDEMPOTENCY_REQUEST_IN_FLIGHT,
        )
    response = HttpResponse(
        bytes(record.response_body or b""),
        status=record.response_status or 200,
        content_type=record.response_content_type or "application/json",
    )
    response[REPLAYED_HEADER] = "true"
    response.tessera_envelope = True  # type: ignore[attr-defined]
    return response


def _make_idempotent(func: Callable[..., Any], *, required: bool) -> Callable[..., Any]:
    @wraps(func)
    def wrapper(request: HttpRequest, *args: Any, **kwargs: Any) -> Any:
        key = kwargs.pop(_ARGUMENT, None)
        if key is None:
            return func(request, *args, **kwargs)
        record, created = _claim(request, key)
        if not created:
            return _replay(record)
        request._idempotency_record = record  # type: ignore[attr-defined]
        return func(request, *args, **kwargs)

    # Ninja reads the view's signature through `__wrapped__` but resolves string annotations
    # (`from __future__ import annotations`) in the wrapper's module, where the route's
    # schemas are unknown; hand it the signature already resolved in the route's module.
    with suppress(NameError):  # an annotation naming something defined later: let Ninja try
        wrapper.__signature__ = inspect.signature(func, eval_str=True)  # type: ignore[attr-defined]
    # The header becomes a declared parameter of the operation: documented in the schema,
    # validated (a malformed or, where required, missing key is a 422 naming it).
    source = Header(... if required else None, alias=HEADER, description=_DESCRIPTION)
    key_type: Any = KeyValue if required else KeyValue | None
    contribute_operation_args(wrapper, _ARGUMENT, key_type, source)
    wrapper.tessera_idempotent = True  # type: ignore[attr-defined]
    return decorate_view(_store)(wrapper)


@overload
def idempotent(func: Callable[..., Any], /) -> Callable[..., Any]: ...


@overload
def idempotent(*, required: bool = False) -> Callable[[Callable[..., Any]], Callable[..., Any]]: ...


def idempotent(func: Callable[..., Any] | None = None, /, *, required: bool = False) -> Any:
    """Make a POST route safe to retry with `Idempotency-Key` (see the module docstring).
    `required=True` refuses a request without the header (money routes)."""
    if func is not None:
        return _make_idempotent(func, required=required)
    return lambda view: _make_idempotent(view, required=required)


def purge_expired() -> int:
    deleted, _detail = IdempotencyRecord.objects.filter(expires_at__lte=timezone.now()).delete()
    return deleted
