"""Option parsing shared by management commands."""

from __future__ import annotations

from datetime import datetime

from django.core.management.base import CommandError
from django.utils import timezone
from django.utils.dateparse import parse_datetime


def since_option(raw: str) -> datetime:
    """`--since 2026-12-01` or `--since 2026-12-01T10:00`: an aware moment (local time zone
    when none is given); a clear CommandError otherwise."""
    parsed = parse_datetime(raw) or parse_datetime(f"{raw}T00:00:00")
    if parsed is None:
        raise CommandError(f"--since: not a date or time: {raw!r}")
    return parsed if timezone.is_aware(parsed) else timezone.make_aware(parsed)
