"""`Idempotency-Key` for any POST route: `@idempotent` below `@router.post(...)`.

The first reply to `(caller, route, key)` is stored for `IDEMPOTENCY_TTL_SECONDS`; a replay
gets it unchanged with `Idempotent-Replayed: true`; the same key with another body is a 422;
a duplicate that arrives while the first is still running is a 409. A reply of 5xx is not
kept, so the client may retry.
"""

from __future__ import annotations

import hashlib
import inspect
import re
from collections.abc import Callable
from contextlib import suppress
from datetime import timedelta
from functools import wraps
from typing import Any

from django.conf import settings
from django.db import IntegrityError, transaction
from django.http import HttpRequest, HttpResponse
from django.utils import timezone
from django.utils.translation import gettext as _
from ninja.decorators import decorate_view

from tessera.core.client_ip import client_ip
from tessera.core.errors import ApplicationError, ConflictError, InvalidInputError
from tessera.core.models import IdempotencyRecord

HEADER = "Idempotency-Key"
REPLAYED_HEADER = "Idempotent-Replayed"
_KEY_PATTERN = re.compile(r"^[\x21-\x7e]{1,255}$")


def _caller(request: HttpRequest) -> str:
    auth = getattr(request, "auth", None)
    user_id = getattr(auth, "pk", None)
    return f"user:{user_id}" if user_id is not None else f"ip:{client_ip(request)}"


def _claim(request: HttpRequest, key: str) -> tuple[IdempotencyRecord, bool]:
    caller = _caller(request)
    route = f"{request.method} {request.path_info}"
    scope_hash = hashlib.sha256(f"{caller}\n{route}\n{key}".encode()).hexdigest()
    request_hash = hashlib.sha256(request.body).hexdigest()
    now = timezone.now()
    IdempotencyRecord.objects.filter(scope_hash=scope_hash, expires_at__lte=now).delete()
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
        existing = IdempotencyRecord.objects.get(scope_hash=scope_hash)
        if existing.request_hash != request_hash:
            raise InvalidInputError(
                _("This Idempotency-Key was already used with a different request body."),
                code="idempotency_key_reused",
            ) from None
        return existing, False


def _store(run: Callable[..., HttpResponse]) -> Callable[..., HttpResponse]:
    @wraps(run)
    def inner(request: HttpRequest, *args: Any, **kwargs: Any) -> HttpResponse:
        response = run(request, *args, **kwargs)
        record: IdempotencyRecord | None = getattr(request, "_idempotency_record", None)
        if record is None:
            return response
        if response.status_code >= 500:
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


def idempotent(func: Callable[..., Any]) -> Callable[..., Any]:
    @wraps(func)
    def wrapper(request: HttpRequest, *args: Any, **kwargs: Any) -> Any:
        key = request.headers.get(HEADER)
        if key is None:
            return func(request, *args, **kwargs)
        if not _KEY_PATTERN.match(key):
            raise ApplicationError(
                _("Idempotency-Key must be 1 to 255 printable ASCII characters."),
                code="invalid_idempotency_key",
            )
        record, created = _claim(request, key)
        if not created:
            if record.state == IdempotencyRecord.State.PROCESSING:
                raise ConflictError(
                    _("A request with this Idempotency-Key is still being processed."),
                    code="idempotency_request_in_flight",
                )
            response = HttpResponse(
                bytes(record.response_body or b""),
                status=record.response_status or 200,
                content_type=record.response_content_type or "application/json",
            )
            response[REPLAYED_HEADER] = "true"
            response.tessera_envelope = True  # type: ignore[attr-defined]
            return response
        request._idempotency_record = record  # type: ignore[attr-defined]
        return func(request, *args, **kwargs)

    # Ninja reads the view's signature through `__wrapped__` but resolves string annotations
    # (`from __future__ import annotations`) in the wrapper's module, where the route's
    # schemas are unknown; hand it the signature already resolved in the route's module.
    with suppress(NameError):  # an annotation naming something defined later: let Ninja try
        wrapper.__signature__ = inspect.signature(func, eval_str=True)  # type: ignore[attr-defined]
    return decorate_view(_store)(wrapper)


def purge_expired() -> int:
    deleted, _detail = IdempotencyRecord.objects.filter(expires_at__lte=timezone.now()).delete()
    return deleted
