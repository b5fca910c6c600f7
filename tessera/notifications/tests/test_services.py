"""The public service surface: notify, send_sms, send_email, templates, delivery and retry."""

from __future__ import annotations

import importlib
from typing import Any

import pytest
from django.apps import apps
from django.core import mail
from django.core.exceptions import ValidationError
from django.db import transaction
from django.test import override_settings

from tessera.core.errors import InvalidInputError
from tessera.notifications import services
from tessera.notifications.errors import (
    InvalidRecipientError,
    TemplateNotFoundError,
    TemplateRenderError,
)
from tessera.notifications.models import (
    Delivery,
    Notification,
    NotificationPreference,
    NotificationTemplate,
)
from tessera.notifications.selectors import template_render
from tessera.notifications.tasks import send_delivery
from tessera.notifications.tests.factories import (
    DeliveryFactory,
    NotificationPreferenceFactory,
    NotificationTemplateFactory,
)

pytestmark = pytest.mark.django_db

default_templates = importlib.import_module(
    "tessera.notifications.migrations.0002_default_templates"
)


def channels_of(result: services.NotifyManyResult) -> list[str]:
    """The channels a notify used: "in_app" for the notification, then each delivery's."""
    return ["in_app"] * len(result.notifications) + [d.channel for d in result.deliveries]


# --- notify ---------------------------------------------------------------------------------


def test_notify_sends_every_channel_the_kind_has_a_template_for(
    phone_user: Any, sms_outbox: list[Any], django_capture_on_commit_callbacks: Any
) -> None:
    with django_capture_on_commit_callbacks(execute=True):
        result = services.notify(
            user=phone_user,
            kind="security.alert",
            context={"event": "New sign-in", "ip_address": "203.0.113.9", "name": "Ada"},
            data={"session": "abc"},
            critical=True,
        )

    assert channels_of(result) == ["in_app", "email", "sms"]
    notification = Notification.objects.get(user=phone_user)
    assert notification.kind == "security.alert"
    assert notification.title == "Security alert: New sign-in"
    assert notification.body == (
        "New sign-in from 203.0.113.9. If this was not you, change your password and sign "
        "out of your other devices."
    )
    assert notification.data == {"session": "abc"}
    assert notification.read_at is None

    assert len(mail.outbox) == 1
    email = mail.outbox[0]
    assert email.to == ["ada@example.com"]
    assert email.from_email == "Tessera <no-reply@tessera.local>"
    assert email.subject == "Security alert on your Tessera account"
    assert email.body == (
        "Hello Ada,\n\n"
        "We noticed this on your account: New sign-in (from 203.0.113.9).\n\n"
        "If this was you, there is nothing to do. If it was not, change your password now "
        "and sign out of your other devices.\n\n"
        "The Tessera team"
    )

    assert [(sms.to, sms.body) for sms in sms_outbox] == [
        (
            "+27821234567",
            "Tessera security alert: New sign-in. If this was not you, change your password now.",
        )
    ]

    assert result.notifications == [notification]
    # The notification is the record of the in-app message: no delivery row for it.
    assert not Delivery.objects.filter(channel="in_app").exists()
    by_email, by_sms = (Delivery.objects.get(pk=d.pk) for d in result.deliveries)
    for delivery, recipient in ((by_email, "ada@example.com"), (by_sms, "+27821234567")):
        assert delivery.status == "sent"
        assert delivery.recipient == recipient
        assert delivery.attempts == 1
        assert delivery.sent_at is not None
        assert delivery.critical is True
        assert delivery.language == "en"
        assert delivery.notification_id == notification.pk
        assert delivery.user_id == phone_user.pk
    assert by_sms.provider_message_id == "memory-1"


def test_notify_renders_in_the_requested_language(
    user: Any, django_capture_on_commit_callbacks: Any
) -> None:
    with django_capture_on_commit_callbacks(execute=True):
        result = services.notify(
            user=user, kind="account.welcome", context={"name": "Ada"}, language="ar-EG"
        )

    assert channels_of(result) == ["in_app", "email"]
    assert Notification.objects.get(user=user).title == "أهلًا بك في تيسيرا يا Ada"
    assert mail.outbox[0].subject == "أهلًا بك في تيسيرا يا Ada"
    assert mail.outbox[0].body.startswith("مرحبًا Ada،\n\nحسابك في تيسيرا جاهز.")  # noqa: RUF001
    assert {Delivery.objects.get(pk=d.pk).language for d in result.deliveries} == {"ar"}


def test_notify_uses_the_users_language_when_none_is_requested(user: Any) -> None:
    user.language = "ar"

    result = services.notify(user=user, kind="account.welcome", channels=["in_app"])

    assert result.notifications[0].title == "أهلًا بك في تيسيرا"


def test_notify_falls_back_to_english_per_channel(user: Any) -> None:
    NotificationTemplateFactory.create(
        key="event.invite",
        channel="in_app",
        language="en",
        subject="Invited to {{ event }}",
        body="Join us.",
    )
    NotificationTemplateFactory.create(
        key="event.invite",
        channel="email",
        language="en",
        subject="You are invited to {{ event }}",
        body="Join us.",
    )
    NotificationTemplateFactory.create(
        key="event.invite",
        channel="email",
        language="ar",
        subject="دعوة إلى {{ event }}",
        body="انضم إلينا.",
    )

    result = services.notify(
        user=user, kind="event.invite", context={"event": "Jazz night"}, language="ar"
    )

    assert [n.title for n in result.notifications] == ["Invited to Jazz night"]
    assert [(d.channel, d.language, d.subject) for d in result.deliveries] == [
        ("email", "ar", "دعوة إلى Jazz night"),
    ]


@override_settings(LANGUAGES=[("en", "English"), ("ar", "Arabic"), ("fr", "French")])
def test_the_requested_language_wins_over_english_whatever_their_order(user: Any) -> None:
    NotificationTemplateFactory.create(
        key="event.invite", channel="in_app", language="en", subject="Invited", body="Join us."
    )
    NotificationTemplateFactory.create(
        key="event.invite",
        channel="in_app",
        language="fr",
        subject="Invité",
        body="Rejoignez-nous.",
    )

    notification = services.notify(user=user, kind="event.invite", language="fr").notifications[0]

    assert notification.title == "Invité"


def test_notify_with_an_unsupported_language_uses_english(user: Any) -> None:
    result = services.notify(user=user, kind="account.welcome", channels=["in_app"], language="fr")

    assert result.notifications[0].title == "Welcome to Tessera"


def test_notify_only_on_the_channels_asked_for(
    phone_user: Any, sms_outbox: list[Any], django_capture_on_commit_callbacks: Any
) -> None:
    with django_capture_on_commit_callbacks(execute=True):
        result = services.notify(
            user=phone_user,
            kind="security.alert",
            context={"event": "Password changed"},
            channels=["sms", "sms"],
            critical=True,
        )

    assert channels_of(result) == ["sms"]
    assert len(sms_outbox) == 1
    assert mail.outbox == []
    assert Notification.objects.count() == 0


def test_notify_skips_a_channel_the_user_has_no_address_for(user: Any) -> None:
    result = services.notify(
        user=user, kind="security.alert", context={"event": "x"}, critical=True
    )

    assert channels_of(result) == ["in_app", "email"]
    assert result.skipped == {"no_address": 1}
    assert Delivery.objects.filter(channel="sms").count() == 0


def test_notify_honours_a_preference_for_the_kind(user: Any) -> None:
    NotificationPreferenceFactory.create(
        user=user, kind="account.welcome", channel="email", enabled=False
    )

    result = services.notify(user=user, kind="account.welcome")

    assert channels_of(result) == ["in_app"]
    assert result.skipped == {"opted_out": 1}


def test_notify_honours_a_preference_for_every_kind(user: Any) -> None:
    NotificationPreferenceFactory.create(user=user, kind="*", channel="in_app", enabled=False)

    result = services.notify(user=user, kind="account.welcome")

    assert channels_of(result) == ["email"]
    assert Notification.objects.count() == 0


def test_an_exact_kind_preference_beats_the_every_kind_rule(user: Any) -> None:
    NotificationPreferenceFactory.create(user=user, kind="*", channel="email", enabled=False)
    NotificationPreferenceFactory.create(
        user=user, kind="account.welcome", channel="email", enabled=True
    )

    assert channels_of(services.notify(user=user, kind="account.welcome")) == ["in_app", "email"]
    assert channels_of(
        services.notify(user=user, kind="security.alert", context={"event": "x"})
    ) == ["in_app"]


def test_preferences_of_another_user_do_not_apply(user: Any, other_user: Any) -> None:
    NotificationPreferenceFactory.create(user=other_user, kind="*", channel="email", enabled=False)

    assert channels_of(services.notify(user=user, kind="account.welcome")) == ["in_app", "email"]


def test_critical_notifications_ignore_preferences(
    phone_user: Any, sms_outbox: list[Any], django_capture_on_commit_callbacks: Any
) -> None:
    for channel in ("in_app", "email", "sms"):
        NotificationPreferenceFactory.create(
            user=phone_user, kind="*", channel=channel, enabled=False
        )

    with django_capture_on_commit_callbacks(execute=True):
        result = services.notify(
            user=phone_user, kind="otp.code", context={"code": "482913"}, critical=True
        )

    assert channels_of(result) == ["email", "sms"]
    assert sms_outbox[0].body == (
        "Your Tessera code is 482913. It expires in 10 minutes. Never share it with anyone."
    )
    assert mail.outbox[0].subject == "Your Tessera verification code"


def test_notify_with_every_channel_turned_off_sends_nothing(user: Any) -> None:
    NotificationPreferenceFactory.create(user=user, kind="*", channel="in_app", enabled=False)
    NotificationPreferenceFactory.create(user=user, kind="*", channel="email", enabled=False)

    result = services.notify(user=user, kind="account.welcome")
    assert channels_of(result) == []
    assert result.skipped == {"opted_out": 2}
    assert Delivery.objects.count() == Notification.objects.count() == 0


def test_notify_an_unknown_kind_is_an_error(user: Any) -> None:
    with pytest.raises(TemplateNotFoundError) as caught:
        services.notify(user=user, kind="no.such.kind")

    assert caught.value.message == "No notification template has the key 'no.such.kind'."
    assert caught.value.code == "notification_template_not_found"


def test_notify_a_channel_without_a_template_is_an_error(user: Any) -> None:
    with pytest.raises(TemplateNotFoundError) as caught:
        services.notify(user=user, kind="account.welcome", channels=["sms"])

    assert caught.value.message == "No 'sms' template for 'account.welcome' in 'en' or English."
    assert Delivery.objects.count() == 0


def test_notify_an_unknown_channel_is_an_error(user: Any) -> None:
    with pytest.raises(InvalidInputError) as caught:
        services.notify(user=user, kind="account.welcome", channels=["push"])

    assert (caught.value.code, caught.value.message) == (
        "invalid_channel",
        "Unknown notification channel(s): 'push'.",
    )


def test_notify_queues_email_and_sms_only_after_commit(
    user: Any, django_capture_on_commit_callbacks: Any
) -> None:
    with django_capture_on_commit_callbacks(execute=False) as callbacks:
        email_delivery = services.notify(user=user, kind="account.welcome").deliveries[0]
        assert Delivery.objects.get(pk=email_delivery.pk).status == "queued"

    assert len(callbacks) == 1
    assert mail.outbox == []
    callbacks[0]()
    assert Delivery.objects.get(pk=email_delivery.pk).status == "sent"
    assert len(mail.outbox) == 1


def test_a_rolled_back_notify_sends_nothing(
    user: Any, django_capture_on_commit_callbacks: Any
) -> None:
    def sign_up_that_fails() -> None:
        with transaction.atomic():
            services.notify(user=user, kind="account.welcome")
            raise RuntimeError

    with (
        django_capture_on_commit_callbacks(execute=True) as callbacks,
        pytest.raises(RuntimeError),
    ):
        sign_up_that_fails()

    assert callbacks == []
    assert mail.outbox == []
    assert Delivery.objects.count() == 0
    assert Notification.objects.count() == 0


def test_template_text_is_not_html_escaped(user: Any) -> None:
    NotificationTemplateFactory.create(
        key="shop.order",
        channel="in_app",
        subject="Order for {{ name }}\nline two",
        body="{{ name }} <3",
    )

    result = services.notify(user=user, kind="shop.order", context={"name": "Tom & Jerry"})

    notification = result.notifications[0]
    assert notification.title == "Order for Tom & Jerry line two"
    assert notification.body == "Tom & Jerry <3"


def test_a_broken_stored_template_is_reported_clearly(user: Any) -> None:
    NotificationTemplate.objects.create(
        key="broken.kind",
        channel="in_app",
        language="en",
        subject="Hi",
        body="{% if name %}unclosed",
    )

    with pytest.raises(TemplateRenderError) as caught:
        services.notify(user=user, kind="broken.kind")

    assert caught.value.message == (
        "Template syntax error: Unclosed tag on line 1: 'if'. Looking for one of: elif, "
        "else, endif."
    )
    assert caught.value.code == "notification_template_invalid"


# --- templates --------------------------------------------------------------------------------


def test_template_clean_refuses_a_syntax_error() -> None:
    template = NotificationTemplate(
        key="event.reminder",
        channel="email",
        language="en",
        subject="{{ event|nosuchfilter }}",
        body="{% endif %}",
    )

    with pytest.raises(ValidationError) as caught:
        template.full_clean()

    assert caught.value.message_dict == {
        "subject": ["Template syntax error: Invalid filter: 'nosuchfilter'"],
        "body": [
            (
                "Template syntax error: Invalid block tag on line 1: 'endif'. Did you forget to "
                "register or load this tag?"
            )
        ],
    }


def test_template_clean_needs_a_subject_for_email_and_in_app() -> None:
    for channel in ("email", "in_app"):
        template = NotificationTemplate(
            key="event.reminder", channel=channel, language="en", subject=" ", body="Soon."
        )
        with pytest.raises(ValidationError) as caught:
            template.full_clean()
        assert caught.value.message_dict == {
            "subject": ["Email and in-app templates need a subject."]
        }

    NotificationTemplate(
        key="event.reminder", channel="sms", language="en", subject="", body="Soon."
    ).full_clean()


def test_template_clean_refuses_a_second_template_for_the_same_key_channel_language() -> None:
    with pytest.raises(ValidationError) as caught:
        NotificationTemplate(key="otp.code", channel="sms", language="en", body="x").full_clean()

    assert caught.value.messages == [
        "A template for this key, channel and language already exists."
    ]


def test_template_clean_refuses_a_malformed_key() -> None:
    with pytest.raises(ValidationError) as caught:
        NotificationTemplate(key="OTP Code", channel="sms", language="en", body="x").full_clean()

    assert list(caught.value.message_dict) == ["key"]


def test_template_render_is_public_for_recipients_without_an_account() -> None:
    rendered = template_render(
        key="otp.code", channel="sms", language="ar", context={"code": "113355", "minutes": 5}
    )

    assert (rendered.language, rendered.subject, rendered.body) == (
        "ar",
        "",
        "رمز التحقق الخاص بك في تيسيرا هو 113355. تنتهي صلاحيته خلال 5 دقائق. لا تشاركه مع أي شخص.",
    )


def test_template_render_of_a_missing_template_is_an_error() -> None:
    with pytest.raises(TemplateNotFoundError):
        template_render(key="otp.code", channel="in_app", context={})


def test_default_templates_exist_in_english_and_arabic_and_render() -> None:
    # Other modules add their own kinds in their own migrations (auth.* by accounts).
    platform_kinds = ("otp.code", "security.alert", "account.welcome")
    stored = {
        (t.key, t.channel, t.language): t
        for t in NotificationTemplate.objects.filter(key__in=platform_kinds)
    }
    expected = {
        (key, channel, language)
        for key, channels in {
            "otp.code": ("email", "sms"),
            "security.alert": ("email", "sms", "in_app"),
            "account.welcome": ("email", "in_app"),
        }.items()
        for channel in channels
        for language in ("en", "ar")
    }
    assert set(stored) == expected

    context = {"code": "123456", "event": "New sign-in", "name": "Ada", "ip_address": "::1"}
    for (key, channel, language), template in stored.items():
        template.full_clean()
        rendered = template_render(key=key, channel=channel, language=language, context=context)
        text = rendered.subject + rendered.body
        has_arabic = any("\u0600" <= char <= "\u06ff" for char in text)
        assert has_arabic is (language == "ar"), (key, channel, language)
        assert "{" not in text
        assert "}" not in text


def test_the_default_templates_migration_keeps_edited_templates_when_reversed() -> None:
    edited = NotificationTemplate.objects.get(key="otp.code", channel="sms", language="en")
    edited.body = "Code: {{ code }}"
    edited.save()

    platform = NotificationTemplate.objects.filter(
        key__in=("otp.code", "security.alert", "account.welcome")
    )
    default_templates.remove_defaults(apps, None)
    assert list(platform.values_list("key", "channel", "language")) == [("otp.code", "sms", "en")]

    default_templates.load_defaults(apps, None)
    assert platform.count() == 14
    edited.refresh_from_db()
    assert edited.body == "Code: {{ code }}"


# --- send_sms / send_email --------------------------------------------------------------------


def test_send_sms_to_a_number_without_an_account(
    sms_outbox: list[Any], django_capture_on_commit_callbacks: Any
) -> None:
    with django_capture_on_commit_callbacks(execute=True):
        delivery = services.send_sms(to="+27831112222", body="Code 111222", kind="otp.code")

    assert delivery is not None
    delivery.refresh_from_db()
    assert (delivery.channel, delivery.recipient, delivery.kind, delivery.status) == (
        "sms",
        "+27831112222",
        "otp.code",
        "sent",
    )
    assert (delivery.user_id, delivery.critical, delivery.attempts) == (None, True, 1)
    assert [(sms.to, sms.body) for sms in sms_outbox] == [("+27831112222", "Code 111222")]


@pytest.mark.parametrize("number", ["0821234567", "+0821234567", "+27 82 123 4567", ""])
def test_send_sms_refuses_a_number_not_in_e164(number: str) -> None:
    with pytest.raises(InvalidRecipientError) as caught:
        services.send_sms(to=number, body="x")

    assert caught.value.fields == {"to": "Not an E.164 phone number."}
    assert Delivery.objects.count() == 0


def test_send_sms_refuses_an_empty_body() -> None:
    with pytest.raises(InvalidInputError) as caught:
        services.send_sms(to="+27831112222", body="  ")

    assert caught.value.fields == {"body": "Required."}


def test_send_sms_not_critical_respects_the_owner_of_the_number(
    phone_user: Any, sms_outbox: list[Any], django_capture_on_commit_callbacks: Any
) -> None:
    NotificationPreferenceFactory.create(user=phone_user, kind="event.reminder", channel="sms")

    with django_capture_on_commit_callbacks(execute=True):
        skipped = services.send_sms(
            to="+27821234567", body="Soon", kind="event.reminder", critical=False
        )
        sent = services.send_sms(to="+27821234567", body="Code 1", kind="event.reminder")

    assert skipped is None
    assert sent is not None
    assert [sms.body for sms in sms_outbox] == ["Code 1"]


def test_send_email_to_an_address_without_an_account(
    django_capture_on_commit_callbacks: Any,
) -> None:
    with django_capture_on_commit_callbacks(execute=True):
        delivery = services.send_email(
            to="new@example.com", subject="Hello\nthere", body="Welcome aboard."
        )

    assert delivery is not None
    delivery.refresh_from_db()
    assert (delivery.status, delivery.subject, delivery.recipient) == (
        "sent",
        "Hello there",
        "new@example.com",
    )
    assert [(m.to, m.subject, m.body) for m in mail.outbox] == [
        (["new@example.com"], "Hello there", "Welcome aboard.")
    ]


def test_send_email_refuses_a_bad_address_or_empty_parts() -> None:
    with pytest.raises(InvalidRecipientError) as bad_address:
        services.send_email(to="not-an-address", subject="s", body="b")
    with pytest.raises(InvalidInputError) as empty:
        services.send_email(to="new@example.com", subject=" ", body="")

    assert bad_address.value.fields == {"to": "Not a valid email address."}
    assert empty.value.fields == {"subject": "Required.", "body": "Required."}


def test_send_email_not_critical_respects_the_owner_of_the_address(user: Any) -> None:
    NotificationPreferenceFactory.create(user=user, kind="*", channel="email")

    assert (
        services.send_email(
            to="ADA@example.com", subject="s", body="b", kind="news", critical=False
        )
        is None
    )
    assert services.send_email(to="ADA@example.com", subject="s", body="b", kind="news") is not None


# --- delivery task ----------------------------------------------------------------------------


def test_a_delivery_is_sent_once_when_its_task_runs_twice(
    django_capture_on_commit_callbacks: Any,
) -> None:
    with django_capture_on_commit_callbacks(execute=True):
        delivery = services.send_email(to="new@example.com", subject="s", body="b")
    assert delivery is not None

    result = send_delivery.apply(kwargs={"delivery_id": str(delivery.pk)})

    assert result.get() == "sent"
    assert len(mail.outbox) == 1
    delivery.refresh_from_db()
    assert delivery.attempts == 1


def test_the_task_of_a_deleted_delivery_does_nothing() -> None:
    delivery = DeliveryFactory.create()
    delivery_id = str(delivery.pk)
    delivery.delete()

    assert send_delivery.apply(kwargs={"delivery_id": delivery_id}).get() == "missing"


@override_settings(SMS_BACKEND="carrier-pigeon")
def test_an_unknown_sms_backend_fails_the_delivery_with_the_reason(sms_outbox: list[Any]) -> None:
    delivery = DeliveryFactory.create()

    assert send_delivery.apply(kwargs={"delivery_id": str(delivery.pk)}).get() == "failed"

    delivery.refresh_from_db()
    assert (delivery.status, delivery.attempts) == ("failed", 1)
    assert delivery.last_error == (
        "Unknown SMS_BACKEND 'carrier-pigeon'; choose one of console, file, memory, twilio."
    )


def test_retrying_failed_deliveries_sends_them_and_leaves_the_others(
    sms_outbox: list[Any], django_capture_on_commit_callbacks: Any
) -> None:
    failed = DeliveryFactory.create(status="failed", attempts=1, last_error="boom", body="A")
    queued = DeliveryFactory.create(body="B")
    in_app = DeliveryFactory.create(channel="in_app", status="failed", recipient="x", body="C")

    with django_capture_on_commit_callbacks(execute=True):
        retried = services.delivery_retry_failed(delivery_ids=[failed.pk, queued.pk, in_app.pk])

    assert retried == 1
    failed.refresh_from_db()
    assert (failed.status, failed.attempts, failed.last_error) == ("sent", 2, "")
    assert [sms.body for sms in sms_outbox] == ["A"]
    assert Delivery.objects.get(pk=queued.pk).status == "queued"
    assert Delivery.objects.get(pk=in_app.pk).status == "failed"


# --- reading notifications and setting preferences --------------------------------------------


def test_preference_set_all_replaces_the_users_rules(user: Any) -> None:
    NotificationPreferenceFactory.create(user=user, kind="news", channel="sms")

    saved = services.preference_set_all(
        user=user,
        preferences=[
            services.PreferenceSpec(kind="*", channel="email", enabled=False),
            services.PreferenceSpec(kind="account.welcome", channel="email", enabled=True),
        ],
    )

    expected = [("*", "email", False), ("account.welcome", "email", True)]
    assert [(p.kind, p.channel, p.enabled) for p in saved] == expected
    assert (
        list(
            NotificationPreference.objects.filter(user=user)
            .order_by("kind")
            .values_list("kind", "channel", "enabled")
        )
        == expected
    )
