"""Every message of the events module has an Arabic translation, and a refusal raised with
one of them is answered in Arabic."""

from __future__ import annotations

import uuid
from pathlib import Path
from typing import Any

import pytest
from django.conf import settings

from tessera.core.tests.test_i18n import CATALOGUE, app_messages, po_entries

APP = Path(settings.BASE_DIR) / "tessera" / "events"


def test_every_message_has_an_arabic_translation() -> None:
    entries = po_entries(CATALOGUE / "django.po")
    messages = app_messages(APP)
    assert len(messages) > 100
    missing = sorted(message for message in messages if not entries.get(message))
    assert missing == []


@pytest.mark.django_db
def test_an_unknown_request_is_refused_in_arabic(guest_api: Any) -> None:
    reply = guest_api.get(f"/api/events/requests/{uuid.uuid4()}", HTTP_ACCEPT_LANGUAGE="ar")
    assert reply.status_code == 404
    assert reply.json()["error"]["message"] == "لم يتم العثور على الطلب."


@pytest.mark.django_db
def test_an_arabic_speaker_is_told_in_arabic(
    make_event: Any,
    guest: Any,
    guest_api: Any,
    host_api: Any,
    django_capture_on_commit_callbacks: Any,
) -> None:
    from django.core import mail

    from tessera.notifications.models import Notification

    guest.language = "ar"
    guest.save(update_fields=["language"])
    event = make_event()
    request_id = guest_api.post(f"/api/events/{event['id']}/requests", {}).json()["data"]["id"]

    with django_capture_on_commit_callbacks(execute=True):
        host_api.post(f"/api/events/{event['id']}/requests/{request_id}/accept")

    notice = Notification.objects.get(user=guest, kind="events.request_accepted")
    assert notice.title == "تم قبولك: Jazz night"
    assert "تم قبولك: Jazz night" in [m.subject for m in mail.outbox]
    ticket_mail = next(m for m in mail.outbox if m.subject.startswith("تذكرتك"))
    assert ticket_mail.subject == "تذكرتك: Jazz night"
