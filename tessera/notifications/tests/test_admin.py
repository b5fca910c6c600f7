"""The admin: templates refuse broken syntax, lists filter, deliveries are read-only and retry."""

from __future__ import annotations

from typing import Any

import pytest
from django.utils import timezone

from tessera.notifications.models import Delivery, NotificationTemplate
from tessera.notifications.tests.factories import DeliveryFactory, NotificationFactory

pytestmark = pytest.mark.django_db

TEMPLATES = "/admin/notifications/notificationtemplate/"
NOTIFICATIONS = "/admin/notifications/notification/"
DELIVERIES = "/admin/notifications/delivery/"


def template_form(**overrides: str) -> dict[str, str]:
    form = {
        "key": "event.reminder",
        "channel": "email",
        "language": "en",
        "subject": "Soon: {{ event }}",
        "body": "{{ event }} starts soon.",
    }
    form.update(overrides)
    return form


def test_admin_adds_a_valid_template(admin_client_logged_in: Any) -> None:
    response = admin_client_logged_in.post(f"{TEMPLATES}add/", template_form())

    assert response.status_code == 302
    template = NotificationTemplate.objects.get(key="event.reminder")
    assert (template.channel, template.language, template.subject) == (
        "email",
        "en",
        "Soon: {{ event }}",
    )


def test_admin_refuses_a_template_with_a_syntax_error(admin_client_logged_in: Any) -> None:
    response = admin_client_logged_in.post(
        f"{TEMPLATES}add/", template_form(body="{% for x in items %}{{ x }}")
    )

    assert response.status_code == 200
    assert response.context["adminform"].form.errors == {
        "body": [
            (
                "Template syntax error: Unclosed tag on line 1: 'for'. Looking for one of: "
                "empty, endfor."
            )
        ]
    }
    assert not NotificationTemplate.objects.filter(key="event.reminder").exists()


def test_admin_edits_a_default_template(admin_client_logged_in: Any) -> None:
    template = NotificationTemplate.objects.get(key="otp.code", channel="sms", language="ar")

    response = admin_client_logged_in.post(
        f"{TEMPLATES}{template.pk}/change/",
        template_form(
            key="otp.code", channel="sms", language="ar", subject="", body="رمزك: {{ code }}"
        ),
    )

    assert response.status_code == 302
    template.refresh_from_db()
    assert template.body == "رمزك: {{ code }}"


def test_template_list_searches_by_key_and_filters(admin_client_logged_in: Any) -> None:
    searched = admin_client_logged_in.get(TEMPLATES, {"q": "otp"})
    filtered = admin_client_logged_in.get(
        TEMPLATES, {"channel__exact": "in_app", "language__exact": "ar"}
    )

    assert {(t.key, t.channel, t.language) for t in searched.context["cl"].result_list} == {
        ("otp.code", channel, language) for channel in ("email", "sms") for language in ("en", "ar")
    }
    # (The events module's templates, added by its own migration, are listed too.)
    listed = [(t.key, t.channel, t.language) for t in filtered.context["cl"].result_list]
    assert [row for row in listed if not row[0].startswith("events.")] == [
        ("account.welcome", "in_app", "ar"),
        ("capsules.ready", "in_app", "ar"),
        ("capsules.reply", "in_app", "ar"),
        ("capsules.unfolding", "in_app", "ar"),
        ("security.alert", "in_app", "ar"),
        # tessera/wallet's templates (wallet migrations 0003 and 0007)
        ("wallet.adjustment_completed", "in_app", "ar"),
        ("wallet.chargeback_completed", "in_app", "ar"),
        ("wallet.deposit_completed", "in_app", "ar"),
        ("wallet.deposit_failed", "in_app", "ar"),
        ("wallet.refund_completed", "in_app", "ar"),
        ("wallet.withdrawal_completed", "in_app", "ar"),
        ("wallet.withdrawal_failed", "in_app", "ar"),
    ]


def test_notification_list_filters_read_state_and_kind(
    admin_client_logged_in: Any, user: Any
) -> None:
    unread = NotificationFactory.create(user=user, kind="event.invite")
    read = NotificationFactory.create(user=user, kind="event.invite", read_at=timezone.now())
    other_kind = NotificationFactory.create(user=user, kind="account.welcome")

    def listed(params: dict[str, str]) -> set[Any]:
        response = admin_client_logged_in.get(NOTIFICATIONS, params)
        assert response.status_code == 200
        return {n.pk for n in response.context["cl"].result_list}

    assert listed({"read": "unread"}) == {unread.pk, other_kind.pk}
    assert listed({"read": "read"}) == {read.pk}
    assert listed({"kind": "event.invite"}) == {unread.pk, read.pk}


def test_deliveries_are_read_only(admin_client_logged_in: Any) -> None:
    delivery = DeliveryFactory.create()

    change = admin_client_logged_in.get(f"{DELIVERIES}{delivery.pk}/change/")
    add = admin_client_logged_in.get(f"{DELIVERIES}add/")
    post = admin_client_logged_in.post(
        f"{DELIVERIES}{delivery.pk}/change/", {"recipient": "+27000000000"}
    )

    assert change.status_code == 200
    assert change.context["has_change_permission"] is False
    assert add.status_code == 403
    assert post.status_code == 403
    delivery.refresh_from_db()
    assert delivery.recipient == "+27821234567"


def test_delivery_list_filters_and_searches(admin_client_logged_in: Any) -> None:
    failed_sms = DeliveryFactory.create(status="failed", recipient="+27831112222")
    DeliveryFactory.create(status="queued")
    queued_email = DeliveryFactory.create(channel="email", recipient="ada@example.com")

    def listed(params: dict[str, str]) -> set[Any]:
        return {
            d.pk for d in admin_client_logged_in.get(DELIVERIES, params).context["cl"].result_list
        }

    assert listed({"status__exact": "failed"}) == {failed_sms.pk}
    assert listed({"channel__exact": "email"}) == {queued_email.pk}
    assert listed({"q": "+2783111"}) == {failed_sms.pk}


def test_retry_action_requeues_failed_deliveries(
    admin_client_logged_in: Any, sms_outbox: list[Any], django_capture_on_commit_callbacks: Any
) -> None:
    failed = DeliveryFactory.create(status="failed", attempts=1, last_error="Twilio answered 503")
    sent = DeliveryFactory.create(status="sent", sent_at=timezone.now(), attempts=1)

    with django_capture_on_commit_callbacks(execute=True):
        response = admin_client_logged_in.post(
            DELIVERIES,
            {"action": "retry_failed", "_selected_action": [str(failed.pk), str(sent.pk)]},
            follow=True,
        )

    assert response.status_code == 200
    assert [str(m) for m in response.context["messages"]] == [
        "1 delivery queued again.",
        "1 selected delivery was not failed and was left as it is.",
    ]
    failed.refresh_from_db()
    assert (failed.status, failed.attempts) == ("sent", 2)
    assert Delivery.objects.get(pk=sent.pk).attempts == 1
    assert len(sms_outbox) == 1
