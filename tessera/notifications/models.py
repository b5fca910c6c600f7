"""Notification templates, in-app notifications, channel preferences and outbound deliveries."""

from __future__ import annotations

from typing import Any, ClassVar

from django.conf import settings
from django.core.exceptions import ValidationError
from django.core.serializers.json import DjangoJSONEncoder
from django.core.validators import RegexValidator
from django.db import models
from django.db.models import Q
from django.utils import timezone
from django.utils.translation import gettext
from django.utils.translation import gettext_lazy as _

from tessera.core.models import BaseModel
from tessera.notifications.rendering import template_errors

KIND_PATTERN = r"^[a-z0-9]+(?:[._-][a-z0-9]+)*$"
ALL_KINDS = "*"

kind_validator = RegexValidator(
    KIND_PATTERN,
    _("Use lower-case letters, digits and single dots, dashes or underscores, e.g. otp.code."),
)
preference_kind_validator = RegexValidator(
    rf"^(?:\*|{KIND_PATTERN[1:-1]})$",
    _("Use a notification kind such as event.invite, or * for every kind."),
)


class Channel(models.TextChoices):
    EMAIL = "email", _("Email")
    SMS = "sms", _("SMS")
    IN_APP = "in_app", _("In-app")


class NotificationTemplate(BaseModel):
    """The subject and body of one kind of message, for one channel, in one language.

    Subject and body are Django template syntax rendered with the caller's context; for SMS
    only the body is used, for in-app notifications the subject is the title.
    """

    key = models.CharField(max_length=100, validators=[kind_validator], verbose_name=_("key"))
    channel = models.CharField(max_length=10, choices=Channel.choices, verbose_name=_("channel"))
    language = models.CharField(
        max_length=10, choices=settings.LANGUAGES, verbose_name=_("language")
    )
    subject = models.CharField(max_length=255, blank=True, default="", verbose_name=_("subject"))
    body = models.TextField(verbose_name=_("body"))

    class Meta:
        verbose_name = _("notification template")
        verbose_name_plural = _("notification templates")
        ordering = ("key", "channel", "language")
        constraints: ClassVar[list[Any]] = [
            models.UniqueConstraint(
                fields=["key", "channel", "language"],
                name="notifications_template_key_channel_language",
                violation_error_message=_(
                    "A template for this key, channel and language already exists."
                ),
            ),
            models.CheckConstraint(
                condition=Q(channel__in=Channel.values),
                name="notifications_template_channel_valid",
            ),
        ]

    def __str__(self) -> str:
        return f"{self.key} ({self.channel}, {self.language})"

    def clean(self) -> None:
        super().clean()
        errors = template_errors(subject=self.subject, body=self.body)
        if self.channel in (Channel.EMAIL, Channel.IN_APP) and not self.subject.strip():
            errors.setdefault("subject", gettext("Email and in-app templates need a subject."))
        if errors:
            raise ValidationError(errors)


class Notification(BaseModel):
    """A message shown inside the product, in the user's list until they read it."""

    # No index of its own: `notif_user_created_idx` leads with the user and serves every
    # lookup by user; a second one only cost each of a million fan-out inserts a write.
    user = models.ForeignKey(
        settings.AUTH_USER_MODEL,
        on_delete=models.CASCADE,
        related_name="notifications",
        verbose_name=_("user"),
        db_index=False,
    )
    kind = models.CharField(
        max_length=100, validators=[kind_validator], db_index=True, verbose_name=_("kind")
    )
    title = models.CharField(max_length=255, verbose_name=_("title"))
    body = models.TextField(blank=True, default="", verbose_name=_("body"))
    data = models.JSONField(
        default=dict, blank=True, encoder=DjangoJSONEncoder, verbose_name=_("data")
    )
    read_at = models.DateTimeField(null=True, blank=True, verbose_name=_("read at"))

    class Meta:
        verbose_name = _("notification")
        verbose_name_plural = _("notifications")
        ordering = ("-created_at", "-id")
        indexes: ClassVar[list[Any]] = [
            models.Index(fields=["user", "-created_at"], name="notif_user_created_idx"),
            models.Index(
                fields=["user", "-created_at"],
                name="notif_user_unread_idx",
                condition=Q(read_at__isnull=True),
            ),
        ]

    def __str__(self) -> str:
        return f"{self.kind} for {self.user_id}"

    @property
    def is_read(self) -> bool:
        return self.read_at is not None


class NotificationPreference(BaseModel):
    """Whether `user` wants `kind` (or, with "*", every kind) on `channel`.

    A rule for the exact kind wins over the "*" rule; with no rule a channel is on.
    Critical messages (OTP codes, security alerts) ignore preferences.
    """

    user = models.ForeignKey(
        settings.AUTH_USER_MODEL,
        on_delete=models.CASCADE,
        related_name="notification_preferences",
        verbose_name=_("user"),
    )
    kind = models.CharField(
        max_length=100, validators=[preference_kind_validator], verbose_name=_("kind")
    )
    channel = models.CharField(max_length=10, choices=Channel.choices, verbose_name=_("channel"))
    enabled = models.BooleanField(default=True, verbose_name=_("enabled"))

    class Meta:
        verbose_name = _("notification preference")
        verbose_name_plural = _("notification preferences")
        ordering = ("kind", "channel")
        constraints: ClassVar[list[Any]] = [
            models.UniqueConstraint(
                fields=["user", "kind", "channel"],
                name="notifications_preference_user_kind_channel",
            ),
            models.CheckConstraint(
                condition=Q(channel__in=Channel.values),
                name="notifications_preference_channel_valid",
            ),
        ]

    def __str__(self) -> str:
        state = "on" if self.enabled else "off"
        return f"{self.kind} {self.channel} {state} for {self.user_id}"


class Delivery(BaseModel):
    """One outbound message (email or SMS) to one address.

    Queued rows are sent by workers in batches (`sending.deliveries_send_queued`), or one
    by one (`sending.delivery_send`, for a single message such as an OTP code). A worker
    claims a row by moving `next_attempt_at` past now for the length of its lease; a
    transient failure moves it to the next retry time.
    """

    class Status(models.TextChoices):
        QUEUED = "queued", _("Queued")
        SENT = "sent", _("Sent")
        FAILED = "failed", _("Failed")

    user = models.ForeignKey(
        settings.AUTH_USER_MODEL,
        null=True,
        blank=True,
        on_delete=models.SET_NULL,
        related_name="notification_deliveries",
        verbose_name=_("user"),
    )
    notification = models.ForeignKey(
        Notification,
        null=True,
        blank=True,
        on_delete=models.SET_NULL,
        related_name="deliveries",
        verbose_name=_("notification"),
    )
    kind = models.CharField(
        max_length=100,
        blank=True,
        default="",
        help_text=_("The template key or message kind."),
        verbose_name=_("kind"),
    )
    channel = models.CharField(max_length=10, choices=Channel.choices, verbose_name=_("channel"))
    language = models.CharField(max_length=10, blank=True, default="", verbose_name=_("language"))
    recipient = models.CharField(max_length=254, verbose_name=_("recipient"))
    subject = models.CharField(max_length=255, blank=True, default="", verbose_name=_("subject"))
    body = models.TextField(verbose_name=_("body"))
    critical = models.BooleanField(default=False, verbose_name=_("critical"))
    # Indexed by `delivery_status_channel_idx` and `delivery_queued_idx`, which lead with it
    # or filter on it.
    status = models.CharField(
        max_length=10, choices=Status.choices, default=Status.QUEUED, verbose_name=_("status")
    )
    attempts = models.PositiveIntegerField(default=0, verbose_name=_("attempts"))
    # A queued delivery is not tried before this time: now when queued, the next retry after
    # a transient failure, the end of the lease while a worker is sending it.
    next_attempt_at = models.DateTimeField(default=timezone.now, verbose_name=_("next attempt at"))
    last_error = models.TextField(blank=True, default="", verbose_name=_("last error"))
    provider_message_id = models.CharField(
        max_length=255, blank=True, default="", verbose_name=_("provider message ID")
    )
    sent_at = models.DateTimeField(null=True, blank=True, verbose_name=_("sent at"))

    class Meta:
        verbose_name = _("delivery")
        verbose_name_plural = _("deliveries")
        ordering = ("-created_at", "-id")
        indexes: ClassVar[list[Any]] = [
            models.Index(fields=["status", "channel"], name="delivery_status_channel_idx"),
            models.Index(fields=["recipient"], name="delivery_recipient_idx"),
            # The send queue, oldest first (ids are time-ordered UUIDs): the workers' claim,
            # and the backlog and its oldest row for the admin and /metrics.
            models.Index(
                fields=["channel", "id"],
                name="delivery_queued_idx",
                condition=Q(status="queued"),
            ),
        ]
        constraints: ClassVar[list[Any]] = [
            models.CheckConstraint(
                condition=Q(status__in=["queued", "sent", "failed"]),
                name="notifications_delivery_status_valid",
            ),
            models.CheckConstraint(
                condition=Q(channel__in=Channel.values),
                name="notifications_delivery_channel_valid",
            ),
            models.CheckConstraint(
                condition=~Q(status="sent") | Q(sent_at__isnull=False),
                name="notifications_delivery_sent_has_sent_at",
            ),
        ]

    def __str__(self) -> str:
        return f"{self.channel} {self.kind or 'message'} to {self.recipient} ({self.status})"
