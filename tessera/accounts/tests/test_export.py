"""The account export holds everything the person owns or received, section by section from
the apps registered in tessera.core.exports, and nothing of anyone else's."""

from __future__ import annotations

import json
from collections.abc import Iterator
from datetime import timedelta
from typing import Any

import pytest

from tessera.accounts.models import User
from tessera.accounts.selectors import account_export_data
from tessera.accounts.tests.test_media import upload
from tessera.audit.services import audit_record
from tessera.capsules.models import CapsuleState, Draft, Recipient
from tessera.capsules.tests.factories import make_capsule
from tessera.core import exports
from tessera.files.storage import file_store
from tessera.notifications.models import Delivery, Notification

pytestmark = pytest.mark.django_db


@pytest.fixture(autouse=True)
def _local_files(settings: Any, tmp_path: Any) -> Iterator[None]:
    settings.FILES_STORAGE_BACKEND = "local"
    settings.MEDIA_ROOT = tmp_path / "media"
    settings.FILES_PUBLIC_BASE_URL = ""
    file_store.cache_clear()
    yield
    file_store.cache_clear()


def export_through_the_api(client: Any, run_on_commit: Any) -> dict[str, Any]:
    with run_on_commit():
        started = client.post("/api/auth/me/export")
    assert started.status_code == 202
    task = client.get(started.json()["data"]["statusUrl"]).json()["data"]
    assert task["state"] == "SUCCESS", task
    result: dict[str, Any] = task["result"]
    return result


def test_the_export_holds_what_the_person_owns_and_received(
    user: User, other_user: User, user_api: Any, run_on_commit: Any
) -> None:
    third = User.objects.create_user(email="third@example.com", name="Third")
    # Ada's own things…
    make_capsule(sender=user, receiver=other_user, title="To Grace", body="Ada's words")
    make_capsule(
        sender=user, receiver=other_user, state=CapsuleState.DRAFT, title="Unsent", body="draft"
    )
    Draft.objects.create(owner=user, title="Autosaved", body="half a thought")
    Recipient.objects.create(owner=user, name="Mum", email="mum@example.com")
    with run_on_commit():
        file_id = upload(user_api, "avatar")
    Notification.objects.create(user=user, kind="capsule.ready", title="Your capsule is ready")
    Delivery.objects.create(
        user=user,
        kind="auth.password_reset",
        channel="email",
        recipient="ada@example.com",
        subject="Reset",
        body="your link: https://x/reset?token=secret-token",
    )
    audit_record(action="account.deactivated", actor=third, target=user)
    # …what she received: one still sealed, one ready to read…
    make_capsule(sender=other_user, receiver=user, title="Sealed for Ada", body="not yet")
    make_capsule(
        sender=other_user,
        receiver=user,
        state=CapsuleState.READY,
        unlock_in=-timedelta(days=1),
        title="Ready for Ada",
        body="read me",
    )
    # …and other people's, which must not appear.
    make_capsule(sender=other_user, receiver=third, title="Grace to Third", body="private")
    Draft.objects.create(owner=other_user, title="Grace's draft")
    Notification.objects.create(user=other_user, kind="capsule.ready", title="Grace's")

    export = export_through_the_api(user_api, run_on_commit)

    capsules = export["capsules"]
    sent = {item["title"]: item for item in capsules["sent"]}
    assert set(sent) == {"To Grace", "Unsent"}
    assert sent["To Grace"]["body"] == "Ada's words"
    assert sent["To Grace"]["receiverEmail"] == ""
    received = {item["title"]: item for item in capsules["received"]}
    assert set(received) == {"Sealed for Ada", "Ready for Ada"}
    assert received["Sealed for Ada"]["body"] is None  # as the receiver may see it now
    assert received["Ready for Ada"]["body"] == "read me"
    assert [draft["title"] for draft in capsules["drafts"]] == ["Autosaved"]
    assert [entry["email"] for entry in capsules["recipients"]] == ["mum@example.com"]
    [stored] = export["files"]
    assert stored["id"] == file_id
    assert stored["url"]
    assert [item["title"] for item in export["notifications"]["inApp"]] == ["Your capsule is ready"]
    [delivery] = export["notifications"]["deliveries"]
    assert delivery["subject"] == "Reset"
    assert "secret-token" not in json.dumps(export)  # message bodies stay out
    actions = {(entry["action"], entry["actor"]) for entry in export["audit"]}
    assert ("account.deactivated", "staff") in actions
    assert all("third@example.com" not in json.dumps(entry) for entry in export["audit"])
    assert "Grace to Third" not in json.dumps(export)
    assert "Grace's draft" not in json.dumps(export)


def test_every_registered_section_is_json_ready(user: User) -> None:
    data = account_export_data(user=user)

    assert {"capsules", "files", "notifications", "audit"} <= set(data)
    assert set(exports.export_contributors()) <= set(data)
    assert json.loads(json.dumps(data)) == data


def test_an_apps_section_may_not_take_a_reserved_or_taken_name() -> None:
    def contributor(*, user: Any) -> list[Any]:
        return []

    with pytest.raises(ValueError, match=r"written by tessera\.accounts"):
        exports.export_contributor_register("sessions", contributor)
    with pytest.raises(ValueError, match="already registered"):
        exports.export_contributor_register("capsules", contributor)


def test_a_registered_section_appears_in_the_export(user: User, monkeypatch: Any) -> None:
    monkeypatch.setattr(exports, "_contributors", dict(exports._contributors))
    exports.export_contributor_register("example", lambda *, user: {"balance": "0.00"})

    assert account_export_data(user=user)["example"] == {"balance": "0.00"}
