"""Helpers for the accounts tests: the SMS and email outboxes, codes read from them."""

from __future__ import annotations

import re
from collections.abc import Iterator
from typing import Any

import pytest
from django.core import mail

from tessera.notifications.sms import MemorySmsProvider


@pytest.fixture(autouse=True)
def _empty_outboxes() -> Iterator[None]:
    MemorySmsProvider.outbox.clear()
    yield
    MemorySmsProvider.outbox.clear()


@pytest.fixture
def sms_outbox() -> list[Any]:
    return MemorySmsProvider.outbox


def last_sms_code(to: str) -> str:
    for message in reversed(MemorySmsProvider.outbox):
        if message.to == to:
            match = re.search(r"\b(\d{4,8})\b", message.body)
            assert match, message.body
            return match.group(1)
    raise AssertionError(f"no SMS to {to}")


def last_email(to: str) -> Any:
    for message in reversed(mail.outbox):
        if to in message.to:
            return message
    raise AssertionError(f"no email to {to}")


@pytest.fixture
def run_on_commit(django_capture_on_commit_callbacks: Any) -> Any:
    """Run the on-commit callbacks (SMS and email sending) of the block it wraps."""
    return lambda: django_capture_on_commit_callbacks(execute=True)
