"""The product events a team looks at reach PostHog (served on loopback) after commit:
sign-up, login, capsule sealed and opened, upload done. Properties never carry who the
person is (no email, phone number or name)."""

from __future__ import annotations

import re
from collections.abc import Iterator
from datetime import timedelta
from typing import Any

import pytest
from django.utils import timezone

from tessera.accounts.models import User
from tessera.accounts.tests.conftest import last_sms_code
from tessera.accounts.tests.test_media import upload
from tessera.capsules import services as capsules
from tessera.capsules.models import Capsule, CapsuleState
from tessera.files.storage import file_store
from tests.fixtures import ApiClient
from tests.http_recorder import Recorder, recording_server

pytestmark = pytest.mark.django_db

PERSONAL = re.compile(r"@|\+\d{6,}|Ada|Grace")


@pytest.fixture
def posthog(settings: Any, tmp_path: Any) -> Iterator[Recorder]:
    settings.FILES_STORAGE_BACKEND = "local"
    settings.MEDIA_ROOT = tmp_path / "media"
    settings.FILES_PUBLIC_BASE_URL = ""
    file_store.cache_clear()
    with recording_server(reply={"status": 1}) as recorder:
        settings.POSTHOG_API_KEY = "phc_test_key"
        settings.POSTHOG_HOST = recorder.url
        yield recorder
    file_store.cache_clear()


@pytest.fixture
def run_on_commit(django_capture_on_commit_callbacks: Any) -> Any:
    return lambda: django_capture_on_commit_callbacks(execute=True)


@pytest.fixture(autouse=True)
def _empty_sms_outbox() -> Iterator[None]:
    from tessera.notifications.sms import MemorySmsProvider

    MemorySmsProvider.outbox.clear()
    yield
    MemorySmsProvider.outbox.clear()


def events(recorder: Recorder) -> list[dict[str, Any]]:
    found = [event for request in recorder.requests for event in request.json()["batch"]]
    for event in found:
        assert not PERSONAL.search(str(event["properties"])), event
    return found


def named(recorder: Recorder, name: str) -> list[dict[str, Any]]:
    return [event for event in events(recorder) if event["event"] == name]


def test_email_sign_up_and_login(posthog: Recorder, run_on_commit: Any) -> None:
    api = ApiClient()
    with run_on_commit():
        api.post(
            "/api/auth/register",
            {"email": "lin@example.com", "password": "a long enough pass 7", "name": "Lin"},
        )
        api.post(
            "/api/auth/login", {"email": "lin@example.com", "password": "a long enough pass 7"}
        )

    user = User.objects.get(email="lin@example.com")
    [signed_up] = named(posthog, "user_signed_up")
    assert signed_up["distinct_id"] == str(user.pk)
    assert signed_up["properties"]["method"] == "email"
    [logged_in] = named(posthog, "user_logged_in")
    assert logged_in["distinct_id"] == str(user.pk)
    assert logged_in["properties"]["method"] == "password"


def test_a_failed_login_or_registering_a_taken_email_is_no_event(
    posthog: Recorder, run_on_commit: Any, user: Any
) -> None:
    api = ApiClient()
    with run_on_commit():
        api.post("/api/auth/login", {"email": "ada@example.com", "password": "wrong"})
        api.post(
            "/api/auth/register",
            {"email": "ada@example.com", "password": "a long enough pass 7", "name": "Ada"},
        )

    assert events(posthog) == []


def test_phone_sign_up(posthog: Recorder, run_on_commit: Any) -> None:
    api = ApiClient()
    with run_on_commit():
        api.post("/api/auth/signup", {"phoneNumber": "+27821234567"})
    code = last_sms_code("+27821234567")
    with run_on_commit():
        api.post("/api/auth/verify-otp", {"phoneNumber": "+27821234567", "otpCode": code})

    assert [event["event"] for event in events(posthog)] == ["user_signed_up", "user_logged_in"]
    assert named(posthog, "user_signed_up")[0]["properties"]["method"] == "phone"
    assert named(posthog, "user_logged_in")[0]["properties"]["method"] == "phone_signup"


def test_capsule_sealed_and_opened(
    posthog: Recorder, run_on_commit: Any, user: Any, other_user: Any
) -> None:
    with run_on_commit():
        capsule = capsules.capsule_create(
            sender=user, title="For Grace", body="hello", receiver_id=other_user.pk
        )
        capsules.capsule_seal(
            sender=user, capsule_id=capsule.pk, unlock_at=timezone.now() + timedelta(days=40)
        )
    Capsule.objects.filter(pk=capsule.pk).update(
        state=CapsuleState.READY, scheduled_unlock_at=timezone.now() - timedelta(minutes=1)
    )
    with run_on_commit():
        capsules.capsule_open(user=other_user, capsule_id=capsule.pk)

    [sealed] = named(posthog, "capsule_sealed")
    assert sealed["distinct_id"] == str(user.pk)
    assert sealed["properties"]["days_until_unlock"] == 40
    assert sealed["properties"]["receiver_has_account"] is True
    [opened] = named(posthog, "capsule_opened")
    assert opened["distinct_id"] == str(other_user.pk)
    assert opened["properties"]["days_sealed"] == 0


def test_upload_done(posthog: Recorder, run_on_commit: Any, user: Any, user_api: Any) -> None:
    with run_on_commit():
        upload(user_api, "avatar")

    [uploaded] = named(posthog, "file_uploaded")
    assert uploaded["distinct_id"] == str(user.pk)
    assert uploaded["properties"]["purpose"] == "avatar"
    assert uploaded["properties"]["content_type"] == "image/png"
    assert uploaded["properties"]["direct"] is False
    assert uploaded["properties"]["size_bytes"] > 0


def test_nothing_is_sent_without_a_key(
    posthog: Recorder, run_on_commit: Any, settings: Any, user: Any
) -> None:
    settings.POSTHOG_API_KEY = ""
    with run_on_commit():
        ApiClient().post(
            "/api/auth/login", {"email": "ada@example.com", "password": "correct horse battery"}
        )

    assert posthog.requests == []
