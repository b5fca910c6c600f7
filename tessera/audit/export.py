"""The audit section of the account export (tessera.core.exports)."""

from __future__ import annotations

from typing import Any

from django.db.models import Q

from tessera.audit.models import AuditLog


def _actor(entry: AuditLog, user: Any) -> str:
    if entry.actor_id is None:
        return "system"
    return "you" if entry.actor_id == user.pk else "staff"


def account_export(*, user: Any) -> list[dict[str, Any]]:
    """Audit entries about the person: what they did, and what was done to their account
    (by the system or by staff, whose identity is not given). Newest first."""
    about = Q(actor_id=user.pk) | Q(target_type="accounts.user", target_id=str(user.pk))
    return [
        {
            "id": str(entry.pk),
            "action": entry.action,
            "actor": _actor(entry, user),
            "targetType": entry.target_type,
            "targetId": entry.target_id,
            "changes": entry.changes,
            "ipAddress": entry.ip_address,
            "userAgent": entry.user_agent,
            "createdAt": entry.created_at.isoformat(),
        }
        for entry in AuditLog.objects.filter(about).order_by("-created_at", "-id")
    ]
