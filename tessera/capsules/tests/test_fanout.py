"""The sweep's fan-out through `notify_many`: the faults a million receivers bring (deleted,
opted out, a language without a template), invitations, and the backlog in /metrics and
the admin."""

from __future__ import annotations

from datetime import timedelta
from typing import Any

import pytest
from django.core import mail
from django.utils import timezone

from tessera.accounts.models import User
from tessera.capsules import services
from tessera.capsules.models import Capsule, CapsuleEvent
from tessera.capsules.tests.factories import make_capsule
from tessera.notifications.models import (
    Delivery,
    Notification,
    NotificationPreference,
    NotificationTemplate,
)

pytestmark = pytest.mark.django_db

DUE = timedelta(seconds=-1)


@pytest.fixture
def sender(db: Any) -> User:
    return User.objects.create_user(email="sam@example.com", name="Sam")


def receiver(email: str, **fields: Any) -> User:
    return User.objects.create_user(email=email, **fields)


def swept(*capsules: Capsule) -> None:
    services.capsule_unlock_sweep(notify_after=False)
    assert CapsuleEvent.objects.filter(notified_at=None).count() == len(capsules)


def notified(user: User) -> list[tuple[str, str]]:
    return list(Notification.objects.filter(user=user).order_by("kind").values_list("kind", "body"))


def emailed(address: str) -> list[str]:
    return [str(m.subject) for m in mail.outbox if m.to == [address]]


def test_a_receiver_deleted_between_sweep_and_fan_out_is_skipped_and_the_rest_go_out(
    sender: User, django_capture_on_commit_callbacks: Any
) -> None:
    stays, leaves = receiver("stays@example.com"), receiver("leaves@example.com")
    swept(
        make_capsule(sender=sender, receiver=stays, unlock_in=DUE, title="Kept"),
        make_capsule(sender=sender, receiver=leaves, unlock_in=DUE, title="Gone"),
    )

    leaves.delete()  # their capsules and events go with them
    with django_capture_on_commit_callbacks(execute=True):
        handled = services.capsule_notify_events()

    assert handled == 1
    assert notified(stays) == [("capsules.ready", "“Kept” from Sam can be opened now.")]
    assert Notification.objects.count() == 1
    assert emailed("stays@example.com") == ["Your time capsule from Sam is ready"]
    assert emailed("leaves@example.com") == []
    assert not CapsuleEvent.objects.filter(notified_at=None).exists()


def test_a_receiver_who_opted_out_of_the_kind_gets_nothing_and_is_not_asked_again(
    sender: User, django_capture_on_commit_callbacks: Any
) -> None:
    quiet = receiver("quiet@example.com")
    no_email = receiver("noemail@example.com")
    for channel in ("in_app", "email"):
        NotificationPreference.objects.create(
            user=quiet, kind="capsules.ready", channel=channel, enabled=False
        )
    NotificationPreference.objects.create(user=no_email, kind="*", channel="email", enabled=False)
    swept(
        make_capsule(sender=sender, receiver=quiet, unlock_in=DUE),
        make_capsule(sender=sender, receiver=no_email, unlock_in=DUE),
        # Opted out of "ready" only: the unfolding notice still comes.
        make_capsule(sender=sender, receiver=quiet, unlock_in=timedelta(days=1)),
    )

    with django_capture_on_commit_callbacks(execute=True):
        assert services.capsule_notify_events() == 3
    assert services.capsule_notify_events() == 0

    assert [kind for kind, _ in notified(quiet)] == ["capsules.unfolding"]
    assert [kind for kind, _ in notified(no_email)] == ["capsules.ready"]
    assert emailed("noemail@example.com") == []
    assert emailed("quiet@example.com") == ["A time capsule from Sam unlocks soon"]


def test_a_template_missing_in_arabic_is_sent_in_english(
    sender: User, django_capture_on_commit_callbacks: Any
) -> None:
    NotificationTemplate.objects.filter(
        key="capsules.ready", channel="email", language="ar"
    ).delete()
    amal = receiver("amal@example.com", language="ar")
    swept(make_capsule(sender=sender, receiver=amal, unlock_in=DUE, title="رسالة"))

    with django_capture_on_commit_callbacks(execute=True):
        services.capsule_notify_events()

    assert notified(amal) == [("capsules.ready", "يمكنك الآن فتح «رسالة» من Sam.")]
    assert emailed("amal@example.com") == ["Your time capsule from Sam is ready"]
    delivery = Delivery.objects.get(recipient="amal@example.com")
    assert (delivery.language, delivery.status) == ("en", "sent")


def test_a_receiver_without_an_account_is_invited_again_when_the_capsule_is_ready(
    sender: User, django_capture_on_commit_callbacks: Any
) -> None:
    swept(
        make_capsule(
            sender=sender, receiver=None, receiver_email="later@example.com", unlock_in=DUE
        )
    )

    with django_capture_on_commit_callbacks(execute=True):
        assert services.capsule_notify_events() == 1

    assert emailed("later@example.com") == ["Sam sent you a time capsule on Tessera"]
    assert Delivery.objects.get(recipient="later@example.com").kind == "capsules.invitation"
    assert Notification.objects.count() == 0


def test_many_events_are_notified_in_batches_each_once(
    sender: User, django_capture_on_commit_callbacks: Any
) -> None:
    receivers = [receiver(f"r{n}@example.com", language="ar" if n % 3 else "en") for n in range(7)]
    for person in receivers:
        make_capsule(sender=sender, receiver=person, unlock_in=DUE)
        make_capsule(sender=sender, receiver=person, unlock_in=timedelta(days=2))
    services.capsule_unlock_sweep(notify_after=False)

    with django_capture_on_commit_callbacks(execute=True):
        assert services.capsule_notify_events(batch_size=4, limit=6) == 6
        assert services.capsule_notify_events(batch_size=4) == 8

    assert Notification.objects.count() == 14
    assert Delivery.objects.filter(status="sent").count() == 14
    for person in receivers:
        assert sorted(kind for kind, _ in notified(person)) == [
            "capsules.ready",
            "capsules.unfolding",
        ]


def test_the_fan_out_stops_between_batches_once_its_time_is_spent(sender: User) -> None:
    for n in range(3):
        make_capsule(sender=sender, receiver=receiver(f"r{n}@example.com"), unlock_in=DUE)
    services.capsule_unlock_sweep(notify_after=False)

    assert services.capsule_notify_events(time_budget_seconds=0) == 0
    assert services.capsule_notify_events(batch_size=1, time_budget_seconds=60) == 3


# --- the backlog --------------------------------------------------------------------------


def metric(text: str, name: str, queue: str) -> float:
    prefix = f'{name}{{queue="{queue}"}} '
    line = next(line for line in text.splitlines() if line.startswith(prefix))
    return float(line.removeprefix(prefix))


def test_metrics_show_the_backlog_of_events_and_deliveries_and_the_oldest_age(
    api: Any, sender: User
) -> None:
    people = [receiver(f"r{n}@example.com") for n in range(3)]
    for person in people:
        make_capsule(sender=sender, receiver=person, unlock_in=DUE)
    services.capsule_unlock_sweep(notify_after=False)
    CapsuleEvent.objects.update(created_at=timezone.now() - timedelta(minutes=5))

    text = api.get("/metrics", REMOTE_ADDR="127.0.0.1").content.decode()
    assert metric(text, "tessera_backlog_items", "capsule_events") == 3
    assert metric(text, "tessera_backlog_oldest_age_seconds", "capsule_events") >= 300
    assert metric(text, "tessera_backlog_items", "notification_deliveries_email") == 0
    assert metric(text, "tessera_backlog_oldest_age_seconds", "notification_deliveries_email") == 0

    # In this test nothing commits, so the queued emails wait: as on a busy day.
    services.capsule_notify_events(batch_size=2)
    text = api.get("/metrics", REMOTE_ADDR="127.0.0.1").content.decode()
    assert metric(text, "tessera_backlog_items", "capsule_events") == 0
    assert metric(text, "tessera_backlog_items", "notification_deliveries_email") == 3
    assert metric(text, "tessera_backlog_items", "notification_deliveries_sms") == 0
    assert metric(text, "tessera_backlog_oldest_age_seconds", "notification_deliveries_email") >= 0


def test_the_admin_lists_say_what_waits_and_for_how_long(admin_client: Any, sender: User) -> None:
    person = receiver("r@example.com")
    make_capsule(sender=sender, receiver=person, unlock_in=DUE)
    services.capsule_unlock_sweep(notify_after=False)

    events_page = admin_client.get("/admin/capsules/capsuleevent/")
    deliveries_page = admin_client.get("/admin/notifications/delivery/")
    assert events_page.context["title"].startswith(
        "Capsule events (1 waiting to be notified, the oldest for 0"
    )
    assert deliveries_page.context["title"] == "Deliveries (Email: none queued; SMS: none queued)"

    services.capsule_notify_events()
    events_page = admin_client.get("/admin/capsules/capsuleevent/")
    deliveries_page = admin_client.get("/admin/notifications/delivery/")
    assert events_page.context["title"] == "Capsule events (every receiver notified)"
    assert deliveries_page.context["title"].startswith(
        "Deliveries (Email: 1 queued, the oldest for 0"
    )
