"""Every message of the events module has an Arabic translation, and a refusal raised with
one of them is answered in Arabic."""

from __future__ import annotations

import ast
import uuid
from pathlib import Path
from typing import Any

import pytest
from django.conf import settings

from tessera.core.tests.test_i18n import CATALOGUE, po_entries

APP = Path(settings.BASE_DIR) / "tessera" / "events"


def _messages() -> set[str]:
    found: set[str] = set()
    for source in APP.rglob("*.py"):
        if {"tests", "migrations"} & set(source.relative_to(APP).parts):
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
    return found


def test_every_message_has_an_arabic_translation() -> None:
    entries = po_entries(CATALOGUE / "django.po")
    messages = _messages()
    assert len(messages) > 100
    missing = sorted(message for message in messages if not entries.get(message))
    assert missing == []


@pytest.mark.django_db
def test_an_unknown_request_is_refused_in_arabic(guest_api: Any) -> None:
    reply = guest_api.get(f"/api/events/requests/{uuid.uuid4()}", HTTP_ACCEPT_LANGUAGE="ar")
    assert reply.status_code == 404
    assert reply.json()["error"]["message"] == "لم يتم العثور على الطلب."
