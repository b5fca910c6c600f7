"""Writing the audit trail. Services call `audit_record` for every security and money event."""

from __future__ import annotations

import ipaddress
from datetime import UTC, date, datetime, time, timedelta
from typing import Any

from django.db import transaction
from django.db.models import Count

from tessera.audit.models import AuditLog, AuditLogSummary
from tessera.core.context import ClientContext


def _valid_ip(value: str | None) -> str | None:
    if not value:
        return None
    try:
        return str(ipaddress.ip_address(value))
    except ValueError:
        return None


def audit_record(
    *,
    action: str,
    actor: Any | None = None,
    target: Any | None = None,
    target_type: str = "",
    target_id: str = "",
    changes: dict[str, Any] | None = None,
    client: ClientContext | None = None,
    ip_address: str | None = None,
    user_agent: str = "",
    request_id: str = "",
) -> AuditLog:
    """One audit entry. Where it came from is read from `client`, or given as plain values
    by background tasks that act for a request (`ip_address`, `user_agent`, `request_id`)."""
    if target is not None:
        target_type = target_type or f"{target._meta.app_label}.{target._meta.model_name}"
        target_id = target_id or str(target.pk)
    actor_id = getattr(actor, "pk", None)
    if client is not None:
        ip_address = client.ip_address
        user_agent = client.user_agent
        request_id = client.request_id
    return AuditLog.objects.create(
        actor_id=actor_id,
        action=action,
        target_type=target_type,
        target_id=str(target_id),
        changes=changes or {},
        ip_address=_valid_ip(ip_address),
        user_agent=user_agent[:500],
        request_id=request_id[:128],
    )


def audit_summarise_day(*, day: date) -> int:
    """Recompute the per-action counts of one UTC day. Safe to run any number of times."""
    start = datetime.combine(day, time.min, tzinfo=UTC)
    end = start + timedelta(days=1)
    counts = (
        AuditLog.objects.filter(created_at__gte=start, created_at__lt=end)
        .values("action")
        .annotate(total=Count("id"))
    )
    with transaction.atomic():
        AuditLogSummary.objects.filter(day=day).delete()
        AuditLogSummary.objects.bulk_create(
            [AuditLogSummary(day=day, action=row["action"], count=row["total"]) for row in counts]
        )
    return len(counts)
