"""Telling many people about one kind of thing at once: `notify_many`.

The costs of one notification (the user's row, their preferences, the templates, the
rendering, the inserts, the task that sends) are paid once per batch here, not once per
person: a constant number of queries per batch, each template compiled once per language,
rows written in bulk (`bulk.rows_write`: COPY on PostgreSQL, `bulk_create` elsewhere), and
one sending task per channel after commit (docs/decisions/0022). `services.notify` is this
with one item.
"""

from __future__ import annotations

from collections import Counter, defaultdict
from collections.abc import Iterable, Mapping
from dataclasses import dataclass, field
from functools import cached_property
from typing import Any, NamedTuple

from django.conf import settings
from django.contrib.auth import get_user_model
from django.db import connection, transaction
from django.utils import timezone, translation

from tessera.core.errors import InvalidInputError
from tessera.core.ids import uuid7
from tessera.notifications.bulk import columns_of, fetch_all, rows_write
from tessera.notifications.errors import NotificationsErrorCode, TemplateNotFoundError
from tessera.notifications.models import (
    ALL_KINDS,
    Channel,
    Delivery,
    Notification,
    NotificationPreference,
    NotificationTemplate,
)
from tessera.notifications.rendering import TemplatePlan, language_resolve, subject_line

# In-app first, so that the email and SMS deliveries can point at the notification.
CHANNEL_ORDER: tuple[str, ...] = (Channel.IN_APP, Channel.EMAIL, Channel.SMS)
OUTBOUND: tuple[str, ...] = (Channel.EMAIL, Channel.SMS)


class NotifyItem(NamedTuple):
    """One person to tell, for `notify_many`. A plain `(user, context, data)` tuple works too.

    - `user`: a user, or a user's primary key (the batch reads the users itself, so one
      deleted meanwhile is skipped, not an error);
    - `context`: the template's values for this person (`{{ title }}` → `context["title"]`);
    - `data`: what rides on the in-app notification for the client (ids for a deep link);
    - `language`: this person's language for this message, else their own (`user.language`).
    """

    user: Any
    context: Mapping[str, Any] | None = None
    data: Mapping[str, Any] | None = None
    language: str | None = None


NOTIFICATION_COLUMNS = columns_of(
    Notification,
    ("id", "created_at", "updated_at", "user_id", "kind", "title", "body", "data", "read_at"),
)
DELIVERY_COLUMNS = columns_of(
    Delivery,
    (
        "id",
        "created_at",
        "updated_at",
        "user_id",
        "notification_id",
        "kind",
        "channel",
        "language",
        "recipient",
        "subject",
        "body",
        "critical",
        "status",
        "attempts",
        "last_error",
        "provider_message_id",
        "sent_at",
        "next_attempt_at",
    ),
)


def _instances(
    model: type[Any], columns: tuple[str, ...], rows: list[tuple[Any, ...]]
) -> list[Any]:
    made = []
    for row in rows:
        instance = model(**dict(zip(columns, row, strict=True)))
        instance._state.adding = False
        instance._state.db = "default"
        made.append(instance)
    return made


@dataclass
class NotifyManyResult:
    """What one batch wrote: the in-app notifications and the queued email/SMS deliveries
    (model instances, made when first read), and `skipped`, by reason, what was not
    written: `no_such_user` (per item), `opted_out` and `no_address` (per item and
    channel), `invalid_address` (`send_many`)."""

    notification_rows: list[tuple[Any, ...]] = field(default_factory=list)
    delivery_rows: list[tuple[Any, ...]] = field(default_factory=list)
    skipped: Counter[str] = field(default_factory=Counter)

    @cached_property
    def notifications(self) -> list[Notification]:
        return _instances(Notification, NOTIFICATION_COLUMNS, self.notification_rows)

    @cached_property
    def deliveries(self) -> list[Delivery]:
        return _instances(Delivery, DELIVERY_COLUMNS, self.delivery_rows)


@dataclass(frozen=True, slots=True)
class _Person:
    pk: Any
    email: str
    phone: str
    language: str


@dataclass(frozen=True, slots=True)
class _Plan:
    """One channel's template in one language, compiled once for the whole batch."""

    language: str
    subject: TemplatePlan | None
    body: TemplatePlan

    def render(self, values: dict[str, Any]) -> tuple[str, str]:
        subject = subject_line(self.subject.fill(values)) if self.subject is not None else ""
        return subject, self.body.fill(values).strip()


def _as_item(item: Any) -> NotifyItem:
    return item if isinstance(item, NotifyItem) else NotifyItem(*item)


def _user_keys(batch: list[NotifyItem]) -> list[Any]:
    """Each item's user as a primary key of the user model's type ("…" → UUID)."""
    to_python = get_user_model()._meta.pk.to_python
    return [to_python(getattr(item.user, "pk", item.user)) for item in batch]


def _people(batch: list[NotifyItem], user_keys: list[Any]) -> dict[Any, _Person]:
    """The items' users that still exist, in one query, keyed by primary key. A user given
    as an instance is used as given (its email, phone and language, saved or not); one
    given by key as stored. On PostgreSQL the rows are share-locked (FOR KEY SHARE, as the
    foreign-key check at commit would do anyway): a user deleted while the batch is being
    written waits for it, instead of failing its commit."""
    keys = list(set(user_keys))
    if not keys:
        return {}
    model = get_user_model()
    names = ("pk", "email", "phone_number", "language")
    if connection.vendor == "postgresql":
        quote = connection.ops.quote_name
        fields = {field.attname: field for field in model._meta.concrete_fields}
        key = quote(str(model._meta.pk.column if model._meta.pk else "id"))
        columns = ", ".join([key, *(quote(str(fields[name].column)) for name in names[1:])])
        fetched = fetch_all(
            f"SELECT {columns} FROM {quote(model._meta.db_table)} "  # noqa: S608 - model names
            f"WHERE {key} = ANY(%s) FOR KEY SHARE",
            [keys],
        )
    else:
        fetched = list(model.objects.filter(pk__in=keys).values_list(*names))
    people = {
        pk: _Person(pk=pk, email=email or "", phone=phone or "", language=language or "")
        for pk, email, phone, language in fetched
    }
    for item in batch:
        user = item.user
        if hasattr(user, "pk") and user.pk in people:
            people[user.pk] = _Person(
                pk=user.pk,
                email=getattr(user, "email", None) or "",
                phone=getattr(user, "phone_number", None) or "",
                language=getattr(user, "language", None) or "",
            )
    return people


def _refusals(*, user_ids: list[Any], kind: str, channels: list[str]) -> set[tuple[Any, str]]:
    """(user, channel) pairs turned off for `kind`, in one query: an exact rule beats "*",
    no rule means on."""
    if not user_ids or not channels:
        return set()
    kinds = [kind, ALL_KINDS]
    fetched: list[tuple[Any, ...]]
    if connection.vendor == "postgresql":
        fetched = fetch_all(
            "SELECT user_id, kind, channel, enabled FROM notifications_notificationpreference "
            "WHERE user_id = ANY(%s) AND kind = ANY(%s) AND channel = ANY(%s)",
            [user_ids, kinds, channels],
        )
    else:
        fetched = list(
            NotificationPreference.objects.filter(
                user_id__in=user_ids, kind__in=kinds, channel__in=channels
            ).values_list("user_id", "kind", "channel", "enabled")
        )
    rules = {
        (user_id, rule_kind, channel): enabled for user_id, rule_kind, channel, enabled in fetched
    }
    refused: set[tuple[Any, str]] = set()
    for user_id, _rule_kind, channel in rules:
        exact = rules.get((user_id, kind, channel))
        enabled = exact if exact is not None else rules.get((user_id, ALL_KINDS, channel), True)
        if not enabled:
            refused.add((user_id, channel))
    return refused


class _Templates:
    """The kind's templates (one query), compiled on first use per channel and language;
    a language without a channel's template uses English."""

    def __init__(self, kind: str) -> None:
        self.kind = kind
        self.stored: dict[tuple[str, str], NotificationTemplate] = {
            (t.channel, t.language): t for t in NotificationTemplate.objects.filter(key=kind)
        }
        self.plans: dict[tuple[str, str], _Plan | None] = {}

    def plan(self, channel: str, language: str) -> _Plan | None:
        key = (channel, language)
        if key not in self.plans:
            template = self.stored.get(key) or self.stored.get((channel, settings.LANGUAGE_CODE))
            self.plans[key] = (
                None
                if template is None
                else _Plan(
                    language=template.language,
                    subject=None if channel == Channel.SMS else TemplatePlan(template.subject),
                    body=TemplatePlan(template.body),
                )
            )
        return self.plans[key]

    def channels(self, language: str, requested: list[str] | None) -> list[str]:
        available = [c for c in CHANNEL_ORDER if self.plan(c, language) is not None]
        if requested is None:
            return available
        missing = [c for c in requested if c not in available]
        if missing:
            raise TemplateNotFoundError(
                f"No {', '.join(map(repr, missing))} template for {self.kind!r} "
                f"in {language!r} or English."
            )
        return [c for c in CHANNEL_ORDER if c in requested]


def _requested(channels: Iterable[str] | None) -> list[str] | None:
    if channels is None:
        return None
    requested = list(dict.fromkeys(channels))
    unknown = [channel for channel in requested if channel not in Channel.values]
    if unknown:
        raise InvalidInputError(
            f"Unknown notification channel(s): {', '.join(map(repr, unknown))}.",
            code=NotificationsErrorCode.INVALID_CHANNEL,
        )
    return requested


def notify_many(
    *,
    kind: str,
    items: Iterable[NotifyItem | tuple[Any, ...]],
    channels: Iterable[str] | None = None,
    critical: bool = False,
) -> NotifyManyResult:
    """Tell every item's user about `kind`, in a fixed number of queries, in one transaction
    (the caller's, when there is one).

    Args:
        kind: the notification kind, a template key (`capsules.ready`, `events.reminder`).
        items: `NotifyItem(user, context, data, language)`s or `(user, context, data)`
            tuples; `user` is a user or a user's primary key. The same user may appear
            more than once (one notification per item).
        channels: `in_app`, `email`, `sms`; default: every channel the kind has a template
            for in the person's language or English.
        critical: ignore preferences (OTP codes, security alerts).

    Returns:
        `NotifyManyResult`: `notifications` (the in-app rows), `deliveries` (the queued
        email/SMS rows) and `skipped`, a count per reason of what was not written:
        `no_such_user` (the item's user does not exist), `opted_out` (the user turned the
        kind or "*" off on that channel), `no_address` (no email/phone for that channel).

    Each person's messages are rendered with their `context` in their language; a
    language without a template for a channel gets the English one for that channel. In-app
    notifications are written at once; email and SMS are written as queued deliveries and
    sent by workers in batches once the transaction commits (a rolled-back batch sends
    nothing). Nothing about one person fails the batch.

    Raises:
        TemplateNotFoundError: the kind has no template at all, or a channel asked for has
            none in a language the batch needs (nothing is written).
        InvalidInputError: an unknown channel.

    Keep batches to a few thousand items (the capsule fan-out uses 2,000): each is one
    transaction, and its rows are held in memory until written. See
    `capsules.services.capsule_notify_events` for a caller that claims its batches, and
    docs/decisions/0022.
    """
    batch = [_as_item(item) for item in items]
    requested = _requested(channels)
    templates = _Templates(kind)
    if not templates.stored:
        raise TemplateNotFoundError(f"No notification template has the key {kind!r}.")
    result = NotifyManyResult()
    if not batch:
        return result

    user_keys = _user_keys(batch)
    people = _people(batch, user_keys)
    by_language: dict[str, list[tuple[NotifyItem, _Person]]] = defaultdict(list)
    for item, user_key in zip(batch, user_keys, strict=True):
        person = people.get(user_key)
        if person is None:
            result.skipped["no_such_user"] += 1
            continue
        by_language[language_resolve(requested=item.language, user=person)].append((item, person))
    wanted = {language: templates.channels(language, requested) for language in by_language}
    refused = (
        set()
        if critical
        else _refusals(
            user_ids=list(people),
            kind=kind,
            channels=sorted({c for chosen in wanted.values() for c in chosen}),
        )
    )

    now = timezone.now()
    for language, members in by_language.items():
        plans = {channel: templates.plan(channel, language) for channel in wanted[language]}
        with translation.override(language):
            for item, person in members:
                _rows_for(result, kind, item, person, plans, refused, critical=critical, now=now)

    with transaction.atomic():
        rows_write(Notification, NOTIFICATION_COLUMNS, result.notification_rows)
        rows_write(Delivery, DELIVERY_COLUMNS, result.delivery_rows)
        for channel in sorted({row[_DELIVERY_CHANNEL] for row in result.delivery_rows}):
            _send_after_commit(channel)
    return result


_DELIVERY_CHANNEL = DELIVERY_COLUMNS.index("channel")


def _rows_for(  # noqa: PLR0917 - the loop's state, named
    result: NotifyManyResult,
    kind: str,
    item: NotifyItem,
    person: _Person,
    plans: Mapping[str, _Plan | None],
    refused: set[tuple[Any, str]],
    *,
    critical: bool,
    now: Any,
) -> None:
    """One person's rows, in the order of NOTIFICATION_COLUMNS and DELIVERY_COLUMNS."""
    values = item.context if isinstance(item.context, dict) else dict(item.context or {})
    notification_id = None
    for channel, plan in plans.items():
        if plan is None:
            continue
        if (person.pk, channel) in refused:
            result.skipped["opted_out"] += 1
            continue
        if channel == Channel.IN_APP:
            title, body = plan.render(values)
            notification_id = uuid7()
            result.notification_rows.append(
                (
                    notification_id,
                    now,
                    now,
                    person.pk,
                    kind,
                    title,
                    body,
                    dict(item.data or {}),
                    None,
                )
            )
            continue
        address = person.email if channel == Channel.EMAIL else person.phone
        if not address:
            result.skipped["no_address"] += 1
            continue
        subject, body = plan.render(values)
        result.delivery_rows.append(
            (
                uuid7(),
                now,
                now,
                person.pk,
                notification_id,
                kind,
                channel,
                plan.language,
                address,
                subject,
                body,
                critical,
                Delivery.Status.QUEUED.value,
                0,
                "",
                "",
                None,
                now,
            )
        )


def _send_after_commit(channel: str) -> None:
    """A sending task for `channel` runs a second after the commit: at most one queued or
    running at a time, however many batches are written meanwhile (it sends whatever is due);
    beat's `send_due` every minute is the safety net."""
    from tessera.core.jobs import drain_on_commit
    from tessera.notifications.tasks import send_queued, sending_drain_name

    drain_on_commit(
        send_queued, name=sending_drain_name(channel), kwargs={"channel": channel}, countdown=1
    )


class OutboundMessage(NamedTuple):
    """One email or SMS to an address, account or not, for `send_many`: `to` is an email
    address or an E.164 number; an SMS has no `subject`."""

    channel: str
    to: str
    body: str
    subject: str = ""
    language: str = ""


def _address_valid(channel: str, to: str) -> bool:
    from django.core.exceptions import ValidationError
    from django.core.validators import validate_email

    from tessera.notifications.sms import is_e164

    if channel == Channel.SMS:
        return is_e164(to)
    try:
        validate_email(to)
    except ValidationError:
        return False
    return True


def _owners(messages: list[OutboundMessage]) -> dict[tuple[str, str], Any]:
    """The account holding each address, one query per channel (emails case-insensitively,
    on the index of lower-cased emails)."""
    from django.db.models.functions import Lower

    users = get_user_model().objects
    emails = {m.to.lower() for m in messages if m.channel == Channel.EMAIL}
    phones = {m.to for m in messages if m.channel == Channel.SMS}
    owners: dict[tuple[str, str], Any] = {}
    if emails:
        by_email = (
            users.annotate(email_lower=Lower("email"))
            .filter(email__isnull=False, email_lower__in=emails)
            .values_list("email_lower", "pk")
        )
        owners.update({(Channel.EMAIL, email): pk for email, pk in by_email})
    if phones:
        by_phone = users.filter(phone_number__in=phones).values_list("phone_number", "pk")
        owners.update({(Channel.SMS, str(phone)): pk for phone, pk in by_phone})
    return owners


def send_many(
    *, kind: str, messages: Iterable[OutboundMessage], critical: bool = False
) -> NotifyManyResult:
    """Queue many already written emails and SMS (invitations to people without an
    account, say) in a fixed number of queries, sent by workers in batches after commit.

    An address that is not valid is skipped (`skipped["invalid_address"]`), never an error
    for the others. Unless `critical`, an address whose account turned `kind` off on that
    channel is skipped too (`skipped["opted_out"]`)."""
    batch: list[OutboundMessage] = []
    result = NotifyManyResult()
    for message in messages:
        if message.channel not in OUTBOUND:
            raise InvalidInputError(
                f"send_many sends email and SMS, not {message.channel!r}.",
                code=NotificationsErrorCode.INVALID_CHANNEL,
            )
        if not message.body.strip() or not _address_valid(message.channel, message.to):
            result.skipped["invalid_address"] += 1
            continue
        batch.append(message)
    if not critical and batch:
        owners = _owners(batch)
        refused = _refusals(
            user_ids=list(set(owners.values())),
            kind=kind,
            channels=sorted({m.channel for m in batch}),
        )
        kept = []
        for message in batch:
            owner = owners.get((message.channel, message.to.lower()))
            owner = owner if owner is not None else owners.get((message.channel, message.to))
            if owner is not None and (owner, message.channel) in refused:
                result.skipped["opted_out"] += 1
            else:
                kept.append(message)
        batch = kept
    now = timezone.now()
    result.delivery_rows = [
        (
            uuid7(),
            now,
            now,
            None,
            None,
            kind,
            message.channel,
            message.language,
            message.to,
            subject_line(message.subject),
            message.body,
            critical,
            Delivery.Status.QUEUED.value,
            0,
            "",
            "",
            None,
            now,
        )
        for message in batch
    ]
    with transaction.atomic():
        rows_write(Delivery, DELIVERY_COLUMNS, result.delivery_rows)
        for channel in sorted({row[_DELIVERY_CHANNEL] for row in result.delivery_rows}):
            _send_after_commit(channel)
    return result
