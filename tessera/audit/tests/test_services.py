from __future__ import annotations

from datetime import UTC, datetime, timedelta
from typing import Any

import pytest
from django.test import RequestFactory

from tessera.audit.models import AuditLog, AuditLogSummary
from tessera.audit.services import audit_record, audit_summarise_day
from tessera.audit.tasks import summarise_daily
from tessera.core.context import client_context

pytestmark = pytest.mark.django_db


def test_audit_record_captures_actor_target_and_request_context(user: Any) -> None:
    request = RequestFactory().post(
        "/api/auth/login", HTTP_USER_AGENT="curl/8.0", REMOTE_ADDR="203.0.113.9"
    )
    request.request_id = "req-123"  # type: ignore[attr-defined]

    entry = audit_record(
        action="auth.login_failed",
        actor=user,
        target=user,
        changes={"reason": "bad password"},
        client=client_context(request),
    )

    stored = AuditLog.objects.get(pk=entry.pk)
    assert stored.actor == user
    assert stored.target_type == "accounts.user"
    assert stored.target_id == str(user.pk)
    assert stored.changes == {"reason": "bad password"}
    assert stored.ip_address == "203.0.113.9"
    assert stored.user_agent == "curl/8.0"
    assert stored.request_id == "req-123"


def test_audit_record_without_request_or_actor() -> None:
    entry = audit_record(action="system.reconciled", target_type="wallet", target_id="42")

    assert entry.actor is None
    assert entry.ip_address is None
    assert entry.target_id == "42"


def _at(entry: AuditLog, when: datetime) -> None:
    AuditLog.objects.filter(pk=entry.pk).update(created_at=when)


def test_daily_summary_counts_per_action_and_is_idempotent() -> None:
    day = datetime(2026, 3, 14, tzinfo=UTC)
    for action, count in (("auth.login", 3), ("wallet.deposit", 2)):
        for _ in range(count):
            _at(audit_record(action=action), day + timedelta(hours=5))
    _at(audit_record(action="auth.login"), day + timedelta(days=1, minutes=1))  # next day

    audit_summarise_day(day=day.date())
    audit_summarise_day(day=day.date())

    rows = {row.action: row.count for row in AuditLogSummary.objects.filter(day=day.date())}
    assert rows == {"auth.login": 3, "wallet.deposit": 2}


def test_summary_task_accepts_an_explicit_day() -> None:
    day = datetime(2026, 1, 2, 12, tzinfo=UTC)
    _at(audit_record(action="auth.logout"), day)

    summarise_daily.delay(day="2026-01-02")

    assert AuditLogSummary.objects.get(day=day.date(), action="auth.logout").count == 1


def test_audit_admin_is_read_only(admin_client: Any) -> None:
    entry = audit_record(action="auth.login")

    assert admin_client.get("/admin/audit/auditlog/").status_code == 200
    assert admin_client.get("/admin/audit/auditlog/add/").status_code == 403
    assert (
        admin_client.post(f"/admin/audit/auditlog/{entry.pk}/delete/", {"post": "yes"}).status_code
        == 403
    )
    assert AuditLog.objects.filter(pk=entry.pk).exists()
