"""Every message of payments and the wallet has an Arabic translation, and the API and the
sandbox's page speak it."""

from __future__ import annotations

from pathlib import Path
from typing import Any

import pytest
from django.conf import settings

from tessera.core.tests.test_i18n import CATALOGUE, app_messages, po_entries

APPS = [Path(settings.BASE_DIR) / "tessera" / name for name in ("payments", "wallet")]


def test_every_message_has_an_arabic_translation() -> None:
    entries = po_entries(CATALOGUE / "django.po")
    messages = app_messages(*APPS)
    assert len(messages) > 80
    missing = sorted(message for message in messages if not entries.get(message))
    assert missing == []


@pytest.mark.django_db
def test_the_api_refuses_in_arabic(user_api: Any) -> None:
    reply = user_api.post(
        "/api/withdrawals",
        {
            "amount": "20.00",
            "currency": "ZAR",
            "bankDetails": {
                "accountHolder": "Ada Lovelace",
                "accountNumber": "1234567890",
                "bankCode": "250655",
            },
        },
        HTTP_IDEMPOTENCY_KEY="k",
        HTTP_ACCEPT_LANGUAGE="ar",
    )
    assert reply.status_code == 422
    assert reply.json()["error"]["message"].startswith("تحتوي المحفظة على")
