"""Thin Celery tasks over the accounts services and selectors."""

from __future__ import annotations

from typing import Any

from celery import shared_task

from tessera.accounts import selectors, services
from tessera.core.jobs import TesseraTask
from tessera.tasks.services import task_report_progress


@shared_task(base=TesseraTask, bind=True, name="accounts.account_export")
def account_export(self: Any, user_id: str) -> dict[str, Any]:
    """Build the account export; its result (the JSON) is read from GET /api/tasks/{id}."""
    user = selectors.user_get_any(user_id=user_id)
    if user is None:
        return {"error": "account_not_found"}
    task_id = str(self.request.id or "")
    task_report_progress(task_id=task_id, current=0, total=1, message="Collecting your data")
    data = selectors.account_export_data(user=user)
    task_report_progress(task_id=task_id, current=1, total=1, message="Done")
    return data


@shared_task(base=TesseraTask, name="accounts.password_reset_send")
def password_reset_send(
    *,
    email: str,
    ip_address: str | None = None,
    user_agent: str = "",
    request_id: str = "",
    link_base: str = "",
) -> bool:
    """The work behind POST /password/forgot, done whether or not the address has an account
    (the request queues this either way). Sending twice gives two links, the newer one valid."""
    return services.password_reset_send(
        email=email,
        ip_address=ip_address,
        user_agent=user_agent,
        request_id=request_id,
        link_base=link_base,
    )


@shared_task(base=TesseraTask, name="accounts.purge_expired_sessions")
def purge_expired_sessions() -> int:
    return services.sessions_purge_expired()
