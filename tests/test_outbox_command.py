"""`manage.py outbox`: what the README's examples read codes and links from."""

from __future__ import annotations

from io import StringIO
from typing import Any

import pytest
from django.core.management import CommandError, call_command

from tessera.notifications.services import send_email, send_sms

pytestmark = pytest.mark.django_db


def outbox(*args: str) -> str:
    out = StringIO()
    call_command("outbox", *args, "--wait", "0", stdout=out)
    return out.getvalue().strip()


def test_it_prints_the_latest_code_sent_to_a_number() -> None:
    send_sms(to="+27821234567", body="Your Tessera code is 111111. It expires in 10 minutes.")
    send_sms(to="+27821234567", body="Your Tessera code is 493817. It expires in 10 minutes.")
    send_sms(to="+27820000009", body="Your Tessera code is 222222.")

    assert outbox("--to", "+27821234567", "--code") == "493817"
    assert "Your Tessera code is 493817" in outbox("--to", "+27821234567")


def test_it_prints_the_first_link_of_an_email() -> None:
    send_email(
        to="Lin@Example.com",
        subject="Reset",
        body="Open this link within 60 minutes:\nhttp://127.0.0.1:18234/reset-password?token=a-b_c\n",
    )

    assert (
        outbox("--to", "lin@example.com", "--link")
        == "http://127.0.0.1:18234/reset-password?token=a-b_c"
    )
    assert outbox("--to", "lin@example.com").startswith("email to Lin@Example.com")


def test_nothing_sent_is_an_error() -> None:
    with pytest.raises(CommandError, match=r"No message to nobody@example\.com yet"):
        outbox("--to", "nobody@example.com")
    send_email(to="lin@example.com", subject="Hi", body="No code in here.")
    with pytest.raises(CommandError, match="has no code"):
        outbox("--to", "lin@example.com", "--code")


def test_it_refuses_when_messages_go_to_real_providers(settings: Any) -> None:
    settings.SMS_BACKEND = "twilio"

    with pytest.raises(CommandError, match="for development"):
        outbox("--to", "+27821234567")
