"""Thin Celery wrappers over the event services."""

from __future__ import annotations

from dataclasses import asdict
from typing import Any

from celery import shared_task

from tessera.core.jobs import TesseraTask
from tessera.events import services
from tessera.events.push import push_backend
from tessera.events.services.ticket_email import ticket_email_deliver


@shared_task(base=TesseraTask, name="events.sweep")
def events_sweep() -> dict[str, int]:
    """Beat, every 60 s: the moves the clock makes, and reminders."""
    result = services.events_sweep()
    return dict(result.__dict__)


@shared_task(base=TesseraTask, name="events.remind")
def event_remind(event_id: str) -> int:
    """Safe to run twice: the reminder goes once per person and start."""
    return services.event_remind_now(event_id=event_id)


@shared_task(base=TesseraTask, name="events.tell_people")
def event_tell_people(event_id: str, kind: str, user_ids: list[str]) -> int:
    return services.event_tell_people_now(event_id=event_id, kind=kind, user_ids=user_ids)


@shared_task(base=TesseraTask, name="events.ticket_email")
def ticket_email_send(ticket_id: str) -> bool:
    return ticket_email_deliver(ticket_id=ticket_id)


@shared_task(base=TesseraTask, name="events.ticket_refund")
def ticket_refund(ticket_id: str) -> None:
    services.ticket_refund_now(ticket_id=ticket_id)


@shared_task(base=TesseraTask, name="events.order_cancel")
def ticket_order_cancel(order_id: str) -> None:
    services.order_cancel_now(order_id=order_id)


@shared_task(base=TesseraTask, name="events.invites_claim")
def invites_claim(user_id: str) -> int:
    from tessera.accounts.selectors import user_get

    user = user_get(user_id=user_id)
    return services.invites_claim_pending(user=user) if user is not None else 0


@shared_task(base=TesseraTask, name="events.account_departure")
def account_departure(user_id: str) -> dict[str, int]:
    """Safe to run twice: a second run finds nothing left to cancel or give up."""
    return asdict(services.account_departure(user_id=user_id))


@shared_task(base=TesseraTask, name="events.push")
def push_send(kind: str, messages: list[dict[str, str]], data: dict[str, Any]) -> None:
    """One batch of in-app messages (`user_id`, `title`, `body`) to the push seam."""
    push_backend().send_many(kind=kind, messages=messages, data=data)
