from __future__ import annotations

from datetime import date, timedelta

from celery import shared_task
from django.utils import timezone

from tessera.audit.services import audit_summarise_day
from tessera.core.jobs import TesseraTask


@shared_task(base=TesseraTask, name="audit.summarise_daily")
def summarise_daily(day: str | None = None) -> int:
    """Summarise yesterday (and today so far) unless a day is given (ISO date)."""
    if day:
        return audit_summarise_day(day=date.fromisoformat(day))
    today = timezone.now().date()
    return audit_summarise_day(day=today - timedelta(days=1)) + audit_summarise_day(day=today)
