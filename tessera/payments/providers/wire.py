"""Revio's JSON formats, shared by the Revio adapter and the sandbox (which speaks them too).

A purchase webhook is the purchase object with `event_type` added: `id` (the purchase),
`status`, `reference` (ours), `purchase.total` and `purchase.currency` (minor units),
`created_on` / `updated_on` (Unix seconds). A refund (`payment.refunded`) is a payment object
whose `related_to.id` is the purchase and `payment.amount` the amount. Payout webhooks are
not published by Revio: Tessera expects `id`, `reference`, `status`, `amount`, `currency` and
`error`, and every event name is configurable (REVIO_EVENT_NAMES).
"""

from __future__ import annotations

from collections.abc import Mapping
from datetime import UTC, datetime
from typing import Any

import orjson

from tessera.payments.providers.base import (
    EVENT_CHARGEBACK,
    EVENT_OTHER,
    EVENT_PAYOUT,
    EVENT_PURCHASE,
    EVENT_REFUND,
    ProviderEvent,
)

# Canonical meaning -> (event kind, Tessera status).
MEANINGS: dict[str, tuple[str, str]] = {
    "paid": (EVENT_PURCHASE, "paid"),
    "failed": (EVENT_PURCHASE, "failed"),
    "cancelled": (EVENT_PURCHASE, "cancelled"),
    "expired": (EVENT_PURCHASE, "expired"),
    "refunded": (EVENT_REFUND, "succeeded"),
    "chargeback": (EVENT_CHARGEBACK, "succeeded"),
    "payout_completed": (EVENT_PAYOUT, "completed"),
    "payout_failed": (EVENT_PAYOUT, "failed"),
}

# A purchase's `status` as the gateway reports it -> Tessera's.
PURCHASE_STATUSES = {
    "paid": "paid",
    "cleared": "paid",
    "settled": "paid",
    "refunded": "paid",
    "partially_refunded": "paid",
    "chargeback": "paid",
    "pending_refund": "paid",
    "error": "failed",
    "blocked": "failed",
    "cancelled": "cancelled",
    "expired": "expired",
    "overdue": "expired",
}
PAYOUT_STATUSES = {
    "success": "completed",
    "completed": "completed",
    "paid": "completed",
    "failed": "failed",
    "error": "failed",
    "rejected": "failed",
    "cancelled": "failed",
}


def event_names(configured: Mapping[str, str]) -> dict[str, str]:
    """Event name -> canonical meaning, from REVIO_EVENT_NAMES (`;` separates several)."""
    names: dict[str, str] = {}
    for meaning, value in configured.items():
        if meaning not in MEANINGS:
            continue
        for name in str(value).split(";"):
            if name.strip():
                names[name.strip()] = meaning
    return names


def dumps(payload: Mapping[str, Any]) -> bytes:
    return orjson.dumps(payload)


def _time(value: Any) -> datetime | None:
    if isinstance(value, bool) or not isinstance(value, int | float):
        return None
    try:
        return datetime.fromtimestamp(value, tz=UTC)
    except (OverflowError, OSError, ValueError):
        return None


def _obj(value: Any) -> dict[str, Any]:
    return value if isinstance(value, dict) else {}


def _int(value: Any) -> int | None:
    if isinstance(value, bool) or not isinstance(value, int):
        return None
    return value


def _str(value: Any) -> str:
    return value if isinstance(value, str) else ("" if value is None else str(value))


def load(body: bytes) -> dict[str, Any]:
    try:
        payload = orjson.loads(body)
    except orjson.JSONDecodeError:
        raise ValueError("the body is not JSON") from None
    if not isinstance(payload, dict):
        raise ValueError("the body is not a JSON object")  # noqa: TRY004 - malformed input
    return payload


def event_time(payload: Mapping[str, Any]) -> datetime | None:
    return _time(payload.get("updated_on")) or _time(payload.get("created_on"))


def purchase_event(
    payload: Mapping[str, Any], *, status: str, event_type: str = ""
) -> ProviderEvent:
    purchase = _obj(payload.get("purchase"))
    object_id = _str(payload.get("id"))
    occurred = event_time(payload)
    return ProviderEvent(
        kind=EVENT_PURCHASE,
        status=status,
        object_id=object_id,
        reference=_str(payload.get("reference")),
        amount_minor=_int(purchase.get("total")),
        currency=_str(purchase.get("currency")).upper() or None,
        event_type=event_type,
        event_id=_event_id(event_type, object_id, payload),
        occurred_at=occurred,
        failure_reason=_str(payload.get("error") or payload.get("failure_reason"))[:200],
        raw=payload,
    )


def payout_event(payload: Mapping[str, Any], *, status: str, event_type: str = "") -> ProviderEvent:
    object_id = _str(payload.get("id"))
    return ProviderEvent(
        kind=EVENT_PAYOUT,
        status=status,
        object_id=object_id,
        reference=_str(payload.get("reference")),
        amount_minor=_int(payload.get("amount")),
        currency=_str(payload.get("currency")).upper() or None,
        event_type=event_type,
        event_id=_event_id(event_type, object_id, payload),
        occurred_at=event_time(payload),
        failure_reason=_str(payload.get("error"))[:200],
        raw=payload,
    )


def _event_id(event_type: str, object_id: str, payload: Mapping[str, Any]) -> str:
    # Revio's events carry no id of their own: an event is its type, its object and the
    # object's version (`updated_on`).
    if not event_type or not object_id:
        return ""
    version = payload.get("updated_on") or payload.get("created_on") or ""
    return f"{event_type}:{object_id}:{version}"[:200]


def parse_webhook(body: bytes, *, names: Mapping[str, str]) -> ProviderEvent:
    """The event in a webhook body (ValueError when the body is not one)."""
    payload = load(body)
    event_type = _str(payload.get("event_type"))
    if not event_type:
        raise ValueError("no event_type")
    if not _str(payload.get("id")):
        raise ValueError("no id")
    if event_time(payload) is None:
        raise ValueError("no created_on/updated_on time")
    meaning = names.get(event_type)
    if meaning is None:
        return ProviderEvent(
            kind=EVENT_OTHER,
            status="",
            object_id=_str(payload.get("id")),
            reference=_str(payload.get("reference")),
            event_type=event_type,
            event_id=_event_id(event_type, _str(payload.get("id")), payload),
            occurred_at=event_time(payload),
            raw=payload,
        )
    kind, status = MEANINGS[meaning]
    if kind == EVENT_PURCHASE:
        return purchase_event(payload, status=status, event_type=event_type)
    if kind == EVENT_PAYOUT:
        return payout_event(payload, status=status, event_type=event_type)
    # A refund or chargeback: a payment object related to the purchase.
    related = _obj(payload.get("related_to"))
    payment = _obj(payload.get("payment"))
    purchase_id = _str(related.get("id"))
    if not purchase_id:
        raise ValueError("a refund without related_to.id")
    refund_id = _str(payload.get("id"))
    return ProviderEvent(
        kind=kind,
        status=status,
        object_id=purchase_id,
        reference=_str(payload.get("reference")),
        amount_minor=_int(payment.get("amount")),
        currency=_str(payment.get("currency")).upper() or None,
        event_type=event_type,
        event_id=_event_id(event_type, refund_id, payload),
        occurred_at=event_time(payload),
        refund_id=refund_id,
        raw=payload,
    )


def purchase_status_event(payload: Mapping[str, Any]) -> ProviderEvent:
    """A purchase object from `GET /purchases/{id}` as an event (reconciliation)."""
    status = PURCHASE_STATUSES.get(_str(payload.get("status")), "pending")
    return purchase_event(payload, status=status)


def payout_status_event(payload: Mapping[str, Any]) -> ProviderEvent:
    status = PAYOUT_STATUSES.get(_str(payload.get("status")), "processing")
    return payout_event(payload, status=status)
