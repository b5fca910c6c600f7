"""`notify_many` and `send_many`: many people, one kind, a fixed number of queries; and the
template plan that renders each template once per language."""

from __future__ import annotations

from datetime import UTC, datetime
from typing import Any

import pytest
from django.core import mail
from django.db import connection, transaction
from django.test.utils import CaptureQueriesContext
from hypothesis import HealthCheck, given, settings
from hypothesis import strategies as st

from tessera.accounts.models import User
from tessera.notifications import services
from tessera.notifications.errors import TemplateNotFoundError
from tessera.notifications.models import (
    Delivery,
    Notification,
    NotificationPreference,
    NotificationTemplate,
)
from tessera.notifications.rendering import TemplatePlan, render_text
from tessera.notifications.services import NotifyItem, OutboundMessage
from tessera.notifications.tests.factories import NotificationTemplateFactory

pytestmark = pytest.mark.django_db


def people(count: int, **fields: Any) -> list[User]:
    return [
        User.objects.create_user(email=f"p{n}@example.com", name=f"P{n}", **fields)
        for n in range(count)
    ]


def capsule_item(user: Any, title: str = "Hello") -> NotifyItem:
    return NotifyItem(user=user, context={"title": title, "name": "Sam"}, data={"id": title})


# --- who gets what ----------------------------------------------------------------------------


def test_each_item_gets_its_own_values_in_its_own_language(
    django_capture_on_commit_callbacks: Any,
) -> None:
    ada, amal = people(2)
    amal.language = "ar"
    amal.save(update_fields=["language"])

    with django_capture_on_commit_callbacks(execute=True):
        result = services.notify_many(
            kind="capsules.ready",
            items=[
                capsule_item(ada.pk, "Letter A"),
                (amal.pk, {"title": "Letter B", "name": "Sam"}, {"id": "B"}),
            ],
        )

    by_user = {n.user_id: n for n in Notification.objects.all()}
    assert (by_user[ada.pk].title, by_user[ada.pk].body, by_user[ada.pk].data) == (
        "Your time capsule is ready",
        "“Letter A” from Sam can be opened now.",
        {"id": "Letter A"},
    )
    assert (by_user[amal.pk].title, by_user[amal.pk].body) == (
        "كبسولتك الزمنية جاهزة",
        "يمكنك الآن فتح «Letter B» من Sam.",
    )
    emails = {message.to[0]: message for message in mail.outbox}
    assert emails["p0@example.com"].subject == "Your time capsule from Sam is ready"
    assert emails["p1@example.com"].subject == "كبسولتك الزمنية من Sam جاهزة"
    assert len(result.notifications) == 2
    deliveries = Delivery.objects.order_by("recipient")
    assert [(d.recipient, d.status, d.language, d.notification_id) for d in deliveries] == [
        ("p0@example.com", "sent", "en", by_user[ada.pk].pk),
        ("p1@example.com", "sent", "ar", by_user[amal.pk].pk),
    ]


def test_the_queries_do_not_grow_with_the_batch() -> None:
    def queries_for(count: int) -> int:
        items = [capsule_item(user) for user in people(count)]
        NotificationPreference.objects.create(
            user_id=items[0].user.pk, kind="*", channel="sms", enabled=False
        )
        with CaptureQueriesContext(connection) as captured:
            services.notify_many(kind="capsules.ready", items=items)
        Notification.objects.all().delete()
        Delivery.objects.all().delete()
        User.objects.all().delete()
        return len(captured.captured_queries)

    # 50: SQLite's bulk insert splits rows by its 999-parameter cap; PostgreSQL's COPY
    # takes any number.
    few, many = queries_for(3), queries_for(50)
    assert few == many
    # Templates, users, preferences, the two inserts (and the savepoint around them).
    assert few <= 7


def test_a_user_deleted_before_the_batch_is_skipped_not_an_error() -> None:
    kept, gone = people(2)
    gone_pk = gone.pk
    gone.delete()

    result = services.notify_many(
        kind="capsules.ready", items=[capsule_item(gone_pk), capsule_item(kept)]
    )

    assert result.skipped == {"no_such_user": 1}
    assert list(Notification.objects.values_list("user", flat=True)) == [kept.pk]
    assert list(Delivery.objects.values_list("recipient", flat=True)) == ["p0@example.com"]


def test_opt_outs_of_the_kind_or_of_everything_are_honoured_per_channel() -> None:
    whole, no_email, everything_off, exact_wins = people(4)
    NotificationPreference.objects.create(
        user=no_email, kind="capsules.ready", channel="email", enabled=False
    )
    for channel in ("in_app", "email"):
        NotificationPreference.objects.create(
            user=everything_off, kind="*", channel=channel, enabled=False
        )
    NotificationPreference.objects.create(user=exact_wins, kind="*", channel="email", enabled=False)
    NotificationPreference.objects.create(
        user=exact_wins, kind="capsules.ready", channel="email", enabled=True
    )

    result = services.notify_many(
        kind="capsules.ready",
        items=[capsule_item(u) for u in (whole, no_email, everything_off, exact_wins)],
    )

    assert sorted(str(e) for e in Notification.objects.values_list("user__email", flat=True)) == [
        "p0@example.com",
        "p1@example.com",
        "p3@example.com",
    ]
    assert sorted(Delivery.objects.values_list("recipient", flat=True)) == [
        "p0@example.com",
        "p3@example.com",
    ]
    assert result.skipped == {"opted_out": 3}


def test_critical_ignores_opt_outs() -> None:
    (user,) = people(1)
    NotificationPreference.objects.create(user=user, kind="*", channel="email", enabled=False)

    services.notify_many(
        kind="security.alert", items=[(user, {"event": "x"})], channels=["email"], critical=True
    )

    assert Delivery.objects.get().critical is True


def test_a_language_without_a_template_for_a_channel_uses_english_for_it() -> None:
    NotificationTemplateFactory.create(
        key="event.reminder", channel="in_app", language="en", subject="Soon: {{ e }}", body="Go."
    )
    NotificationTemplateFactory.create(
        key="event.reminder", channel="in_app", language="ar", subject="قريبًا: {{ e }}", body="هيا."
    )
    NotificationTemplateFactory.create(
        key="event.reminder",
        channel="email",
        language="en",
        subject="Soon: {{ e }}",
        body="Go {{ e }}.",
    )
    (user,) = people(1, language="ar")

    services.notify_many(kind="event.reminder", items=[(user, {"e": "Jazz"})])

    assert Notification.objects.get().title == "قريبًا: Jazz"
    delivery = Delivery.objects.get()
    assert (delivery.language, delivery.subject, delivery.body) == ("en", "Soon: Jazz", "Go Jazz.")


def test_a_user_without_an_address_for_a_channel_gets_the_others() -> None:
    (user,) = people(1)

    result = services.notify_many(
        kind="security.alert", items=[(user, {"event": "x"})], channels=["in_app", "sms"]
    )

    assert len(result.notifications) == 1
    assert result.deliveries == []
    assert result.skipped == {"no_address": 1}


def test_a_channel_asked_for_without_a_template_writes_nothing() -> None:
    users = people(2)

    with pytest.raises(TemplateNotFoundError):
        services.notify_many(
            kind="capsules.ready", items=[capsule_item(u) for u in users], channels=["sms"]
        )
    with pytest.raises(TemplateNotFoundError):
        services.notify_many(kind="no.such.kind", items=[capsule_item(u) for u in users])

    assert Notification.objects.count() == Delivery.objects.count() == 0


def test_an_empty_batch_writes_and_sends_nothing(django_capture_on_commit_callbacks: Any) -> None:
    with django_capture_on_commit_callbacks() as callbacks:
        result = services.notify_many(kind="capsules.ready", items=[])
    assert (result.notifications, result.deliveries, callbacks) == ([], [], [])


def test_one_sending_task_per_channel_per_batch_after_commit(
    django_capture_on_commit_callbacks: Any,
) -> None:
    users = people(25, phone_number=None)

    with django_capture_on_commit_callbacks(execute=False) as callbacks:
        with transaction.atomic():
            services.notify_many(kind="capsules.ready", items=[capsule_item(u) for u in users])
        assert mail.outbox == []
        assert Delivery.objects.filter(status="queued").count() == 25

    assert len(callbacks) == 1
    callbacks[0]()
    assert len(mail.outbox) == 25
    assert not Delivery.objects.exclude(status="sent").exists()


def test_a_rolled_back_batch_sends_nothing(django_capture_on_commit_callbacks: Any) -> None:
    users = people(3)

    def batch_that_fails() -> None:
        with transaction.atomic():
            services.notify_many(kind="capsules.ready", items=[capsule_item(u) for u in users])
            raise RuntimeError

    with django_capture_on_commit_callbacks(execute=True) as callbacks, pytest.raises(RuntimeError):
        batch_that_fails()

    assert callbacks == []
    assert mail.outbox == []
    assert Notification.objects.count() == Delivery.objects.count() == 0


# --- send_many --------------------------------------------------------------------------------


def test_send_many_queues_each_valid_address_and_skips_the_bad_and_the_opted_out(
    django_capture_on_commit_callbacks: Any, sms_outbox: list[Any]
) -> None:
    (owner,) = people(1)
    NotificationPreference.objects.create(
        user=owner, kind="capsules.invitation", channel="email", enabled=False
    )

    with django_capture_on_commit_callbacks(execute=True):
        result = services.send_many(
            kind="capsules.invitation",
            messages=[
                OutboundMessage("email", "new@example.com", "Come", subject="Hello\nthere"),
                OutboundMessage("email", "not-an-address", "Come", subject="Hi"),
                OutboundMessage("email", "P0@Example.com", "Come", subject="Hi"),  # opted out
                OutboundMessage("sms", "+27821234567", "Come too"),
                OutboundMessage("sms", "0821234567", "Not E.164"),
            ],
        )

    assert result.skipped == {"invalid_address": 2, "opted_out": 1}
    assert [(m.to, m.subject) for m in mail.outbox] == [(["new@example.com"], "Hello there")]
    assert [(s.to, s.body) for s in sms_outbox] == [("+27821234567", "Come too")]


# --- the template plan ------------------------------------------------------------------------

_SOURCES = [
    "“{{ title }}” from {{ name }} can be opened now.",
    "Hello{% if name %} {{ name }}{% endif %},\n\n{{ event }}{% if ip %} from {{ ip }}{% endif %}.",
    "{{ name|upper }} {{ when|date:'Y-m-d' }} {{ user.name }} {{ missing }} {{ count }}",
    "{% load i18n %}{% translate 'Hello' as greeting %}{{ greeting }} {{ name }}",
    "{{ name }}{% firstof nothing 'x' as name %}{{ name }}",
    "Only text, the same for everyone.",
    "{{ name|default:'someone' }} & {{ title }} <3",
]
_values = st.one_of(
    st.text(max_size=12),
    st.none(),
    st.integers(min_value=-5, max_value=10**6),
    st.datetimes(
        min_value=datetime(2000, 1, 1),  # noqa: DTZ001 - hypothesis wants naive bounds
        max_value=datetime(2100, 1, 1),  # noqa: DTZ001
        timezones=st.just(UTC),
    ),
)


@settings(max_examples=150, deadline=None, suppress_health_check=[HealthCheck.too_slow])
@given(
    source=st.sampled_from(_SOURCES),
    values=st.dictionaries(
        st.sampled_from(["title", "name", "event", "ip", "when", "count", "user"]),
        _values,
        max_size=6,
    ),
    language=st.sampled_from(["en", "ar"]),
)
def test_the_plan_renders_exactly_what_django_renders(
    source: str, values: dict[str, Any], language: str
) -> None:
    from django.utils import translation

    plan = TemplatePlan(source)
    with translation.override(language):
        filled = plan.fill(dict(values))
    assert filled == render_text(source, dict(values), language=language)


def test_the_default_templates_render_the_same_through_the_plan() -> None:
    values = {"name": "Ada", "title": "T", "event": "E", "ip_address": "1.2.3.4", "code": "1"}
    for template in NotificationTemplate.objects.all():
        for source in (template.subject, template.body):
            from django.utils import translation

            with translation.override(template.language):
                assert TemplatePlan(source).fill(dict(values)) == render_text(
                    source, dict(values), language=template.language
                )
