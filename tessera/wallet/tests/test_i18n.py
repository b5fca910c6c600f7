"""Every message of payments and the wallet has an Arabic translation, and the API and the
sandbox's page speak it."""

from __future__ import annotations

import ast
import re
from pathlib import Path
from typing import Any

import pytest
from django.conf import settings

from tessera.core.tests.test_i18n import CATALOGUE, po_entries

APPS = [Path(settings.BASE_DIR) / "tessera" / name for name in ("payments", "wallet")]
TRANSLATE_TAG = re.compile(r'{% translate "([^"]+)" %}')


def _messages() -> set[str]:
    found: set[str] = set()
    for app in APPS:
        for source in app.rglob("*.py"):
            if {"tests", "migrations"} & set(source.relative_to(app).parts):
                continue
            for node in ast.walk(ast.parse(source.read_text(encoding="utf-8"))):
                if (
                    isinstance(node, ast.Call)
                    and isinstance(node.func, ast.Name)
                    and node.func.id in {"_", "gettext", "gettext_lazy"}
                    and node.args
                    and isinstance(node.args[0], ast.Constant)
                    and isinstance(node.args[0].value, str)
                ):
                    found.add(node.args[0].value)
        for template in app.rglob("*.html"):
            found.update(TRANSLATE_TAG.findall(template.read_text(encoding="utf-8")))
    return found


def test_every_message_has_an_arabic_translation() -> None:
    entries = po_entries(CATALOGUE / "django.po")
    messages = _messages()
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
