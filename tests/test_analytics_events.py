"""The product events a team looks at reach PostHog (served on loopback) after commit:
sign-up, login, capsule sealed and opened, upload done, deposit and withdrawal completed,
event joined and checked in. Properties never carry who the person is (no email, phone
number or name)."""

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
from tessera.payments import services as payments
from tessera.payments.models import SandboxPayout
from tessera.payments.tests.fixtures import _payments_settings, sandbox_wire  # noqa: F401
from tessera.wallet import services as wallet
from tessera.wallet.tests.helpers import BANK_SNAKE, fund
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


@pytest.mark.usefixtures("sandbox_wire")
def test_deposit_and_withdrawal_completed(
    posthog: Recorder, run_on_commit: Any, user: Any, settings: Any
) -> None:
    settings.PAYMENTS_SANDBOX_PAYOUT_DELAY_SECONDS = 3600
    with run_on_commit():
        deposit = fund(user, 10000)
    with run_on_commit():
        withdrawal = wallet.withdrawal_create(
            user=user,
            amount_minor=4000,
            currency="ZAR",
            bank_details=BANK_SNAKE,
            idempotency_key="w-1",
        )
    assert named(posthog, "withdrawal_completed") == []  # reserved, not paid out yet
    SandboxPayout.objects.update(settle_at=timezone.now())
    with run_on_commit():
        payments.payments_sweep()

    [deposited] = named(posthog, "deposit_completed")
    assert deposited["distinct_id"] == str(user.pk)
    assert deposited["properties"] == {
        "transaction_id": str(deposit.pk),
        "currency": "ZAR",
        "amount": "100.00",
        "$lib": "tessera",
        "$lib_version": settings.TESSERA_VERSION,
    }
    [withdrawn] = named(posthog, "withdrawal_completed")
    assert withdrawn["distinct_id"] == str(user.pk)
    assert withdrawn["properties"]["transaction_id"] == str(withdrawal.pk)
    assert withdrawn["properties"]["amount"] == "40.00"
    assert {event["event"] for event in events(posthog)} == {
        "deposit_completed",
        "withdrawal_completed",
    }


def test_event_joined_and_checked_in_online_and_offline(
    posthog: Recorder, run_on_commit: Any, user: Any, other_user: Any, other_api: Any
) -> None:
    from tessera.events.tests.conftest import backdate, client_for, event_body

    host_api = client_for(user)
    event = host_api.post("/api/events", event_body(requiresApproval=False)).json()["data"]
    host_api.post(f"/api/events/{event['id']}/publish")
    guests = [other_user, User.objects.create_user(email="lin@example.com", name="Lin")]
    with run_on_commit():
        for guest in guests:
            client_for(guest).post(f"/api/events/{event['id']}/requests", {})
    tickets = [
        client_for(guest).get("/api/events/tickets").json()["data"]["items"][0] for guest in guests
    ]

    joined = named(posthog, "event_joined")
    assert sorted(e["distinct_id"] for e in joined) == sorted(str(g.pk) for g in guests)
    assert all(e["properties"]["event_id"] == event["id"] for e in joined)
    assert all(e["properties"]["paid"] is False for e in joined)

    backdate(event["id"], timedelta(hours=1))  # the offline scans are dated in the past
    now = timezone.now()
    with run_on_commit():
        online = host_api.post(
            f"/api/events/{event['id']}/checkins",
            {"ticket": tickets[0]["secret"], "nonce": "scan-0001", "scannedAt": now.isoformat()},
        )
        assert online.status_code == 200, online.json()
        offline = host_api.post(
            f"/api/events/{event['id']}/checkins/batch",
            {
                "scans": [
                    {
                        "ticket": tickets[1]["secret"],
                        "nonce": "scan-0002",
                        "scannedAt": (now - timedelta(minutes=20)).isoformat(),
                    },
                    # Already inside: no second event.
                    {
                        "ticket": tickets[0]["secret"],
                        "nonce": "scan-0003",
                        "scannedAt": (now - timedelta(minutes=10)).isoformat(),
                    },
                ]
            },
        )
        assert offline.status_code == 200, offline.json()

    checked_in = {e["distinct_id"]: e["properties"] for e in named(posthog, "event_checked_in")}
    assert len(named(posthog, "event_checked_in")) == 2
    assert checked_in[str(guests[0].pk)]["offline"] is False
    assert checked_in[str(guests[1].pk)]["offline"] is True
    assert {p["event_id"] for p in checked_in.values()} == {event["id"]}
