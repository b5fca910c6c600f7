"""Time capsules: a letter sealed until a date, drafts, and the sender's address book."""

from __future__ import annotations

from datetime import datetime, timedelta

from django.conf import settings
from django.db import models
from django.db.models import Q
from django.utils.translation import gettext_lazy as _
from django_fsm import FSMField, transition

from tessera.capsules import statemachine
from tessera.core.models import BaseModel
from tessera.files.fields import StoredFileField
from tessera.files.purposes import Purpose

UNFOLD_BEFORE = timedelta(days=3)
MAX_MEDIA = 6


class CapsuleState(models.TextChoices):
    DRAFT = statemachine.DRAFT, _("Draft")
    SEALED = statemachine.SEALED, _("Sealed")
    UNFOLDING = statemachine.UNFOLDING, _("Unfolding")
    READY = statemachine.READY, _("Ready")
    OPENED = statemachine.OPENED, _("Opened")


class Capsule(BaseModel):
    # No index of its own: `capsule_outbox_idx` starts with sender and serves every lookup by
    # sender (outbox, cascades); a second one only cost the unlock sweep an index write per row.
    sender = models.ForeignKey(
        settings.AUTH_USER_MODEL,
        on_delete=models.CASCADE,
        related_name="capsules_sent",
        db_index=False,
        verbose_name=_("sender"),
    )
    # Null until the receiver has an account; `receiver_email`/`receiver_phone` then say
    # who was invited, and the capsule is attached when they sign up.
    receiver = models.ForeignKey(
        settings.AUTH_USER_MODEL,
        on_delete=models.CASCADE,
        null=True,
        blank=True,
        related_name="capsules_received",
        verbose_name=_("receiver"),
    )
    receiver_email = models.EmailField(blank=True, default="", verbose_name=_("receiver email"))
    receiver_phone = models.CharField(
        max_length=20, blank=True, default="", verbose_name=_("receiver phone")
    )
    title = models.CharField(max_length=200, verbose_name=_("title"))
    body = models.TextField(blank=True, default="", verbose_name=_("body"))
    theme = models.CharField(max_length=40, blank=True, default="", verbose_name=_("theme"))
    allow_early_view = models.BooleanField(default=False, verbose_name=_("allow early view"))
    allow_receiver_reply = models.BooleanField(
        default=False, verbose_name=_("allow receiver reply")
    )
    state = FSMField(
        default=CapsuleState.DRAFT,
        choices=CapsuleState.choices,
        max_length=12,
        verbose_name=_("state"),
    )
    sealed_at = models.DateTimeField(null=True, blank=True, verbose_name=_("sealed at"))
    scheduled_unlock_at = models.DateTimeField(
        null=True, blank=True, verbose_name=_("scheduled unlock at")
    )
    # Set at sealing to 3 days before unlock, or null when sealed less than 3 days ahead
    # (such a capsule goes straight from SEALED to READY).
    unfolds_at = models.DateTimeField(null=True, blank=True, verbose_name=_("unfolds at"))
    opened_at = models.DateTimeField(null=True, blank=True, verbose_name=_("opened at"))
    reply_body = models.TextField(blank=True, default="", verbose_name=_("reply body"))
    replied_at = models.DateTimeField(null=True, blank=True, verbose_name=_("replied at"))

    class Meta:
        verbose_name = _("capsule")
        verbose_name_plural = _("capsules")
        ordering = ("-created_at",)
        indexes = [
            # Inbox: one receiver's capsules, newest first (the hot read path). Partial: a
            # receiver never sees drafts, so the page (LIMIT) and the capped count read only
            # the index's own entries, in order, with no draft skipped on the way.
            models.Index(
                fields=["receiver", "-created_at", "-id"],
                name="capsule_inbox_idx",
                condition=~Q(state="draft"),
            ),
            models.Index(fields=["sender", "-created_at", "-id"], name="capsule_outbox_idx"),
            # The sweep: due capsules in the states each clock move leaves.
            models.Index(
                fields=["scheduled_unlock_at"],
                name="capsule_due_idx",
                condition=statemachine.q_movable(statemachine.transition("unlock")),
            ),
            models.Index(
                fields=["unfolds_at"],
                name="capsule_unfold_due_idx",
                condition=statemachine.q_movable(statemachine.transition("unfold")),
            ),
            models.Index(
                fields=["receiver_email"],
                name="capsule_pending_email_idx",
                condition=Q(receiver__isnull=True),
            ),
            models.Index(
                fields=["receiver_phone"],
                name="capsule_pending_phone_idx",
                condition=Q(receiver__isnull=True),
            ),
        ]
        constraints = [
            models.CheckConstraint(
                condition=Q(state="draft") | Q(scheduled_unlock_at__isnull=False),
                name="capsule_sealed_has_unlock",
            ),
            models.CheckConstraint(
                condition=~Q(receiver__isnull=True, receiver_email="", receiver_phone=""),
                name="capsule_has_receiver",
            ),
        ]

    def __str__(self) -> str:
        return self.title

    # Sources and targets come from the one transition table (statemachine.TRANSITIONS).
    @transition(field=state, **statemachine.fsm("seal"))
    def seal(self, *, unlock_at: datetime, now: datetime) -> None:
        self.sealed_at = now
        self.scheduled_unlock_at = unlock_at
        unfolds_at = unlock_at - UNFOLD_BEFORE
        self.unfolds_at = unfolds_at if unfolds_at > now else None

    @transition(field=state, **statemachine.fsm("unfold"))
    def unfold(self) -> None:
        """Made by the clock (the sweep), at `unfolds_at`."""

    @transition(field=state, **statemachine.fsm("unlock"))
    def unlock(self) -> None:
        """Made by the clock (the sweep, or `capsule_open` catching up), at unlock time."""

    @transition(field=state, **statemachine.fsm("open"))
    def open(self, *, now: datetime) -> None:
        self.opened_at = now

    def clock_times(self) -> dict[str, datetime | None]:
        return {column: getattr(self, column) for column in statemachine.TIME_COLUMNS}

    def effective_state(self, now: datetime) -> str:
        """The state a reader sees: a due capsule is READY (or UNFOLDING) even before the
        sweep has moved it."""
        return statemachine.effective_state(str(self.state), self.clock_times(), now)


class CapsuleMedia(BaseModel):
    """One image or short video attached while the capsule was a draft (at most 6)."""

    capsule = models.ForeignKey(
        Capsule, on_delete=models.CASCADE, related_name="media", verbose_name=_("capsule")
    )
    file = StoredFileField(purpose=Purpose.CAPSULE_MEDIA, verbose_name=_("file"))
    position = models.PositiveSmallIntegerField(default=0, verbose_name=_("position"))

    class Meta:
        verbose_name = _("capsule media item")
        verbose_name_plural = _("capsule media items")
        ordering = ("position", "created_at")
        constraints = [
            models.UniqueConstraint(fields=["capsule", "file"], name="capsule_media_unique"),
        ]


class CapsuleEvent(models.Model):
    """The outbox of the unlock sweep: one row per capsule and state it reached.

    The unique constraint makes a move recorded at most once, however many sweeps run;
    the row is written in the same statement/transaction as the state change, and
    `notified_at` is set in the same transaction as the notification, so each capsule is
    notified exactly once.
    """

    class Kind(models.TextChoices):
        UNFOLDING = "unfolding", _("Unfolding")
        READY = "ready", _("Ready")

    id = models.BigAutoField(primary_key=True, verbose_name=_("ID"))
    # Indexed by `capsule_event_once` (capsule, kind), which leads with it.
    capsule = models.ForeignKey(
        Capsule,
        on_delete=models.CASCADE,
        related_name="events",
        db_index=False,
        verbose_name=_("capsule"),
    )
    kind = models.CharField(max_length=12, choices=Kind.choices, verbose_name=_("kind"))
    created_at = models.DateTimeField(verbose_name=_("created at"))
    notified_at = models.DateTimeField(null=True, blank=True, verbose_name=_("notified at"))

    class Meta:
        verbose_name = _("capsule event")
        verbose_name_plural = _("capsule events")
        constraints = [
            models.UniqueConstraint(fields=["capsule", "kind"], name="capsule_event_once"),
        ]
        indexes = [
            models.Index(
                fields=["id"], name="capsule_event_pending_idx", condition=Q(notified_at=None)
            ),
        ]

    def __str__(self) -> str:
        return f"{self.kind} {self.capsule_id}"


class Recipient(BaseModel):
    """An entry in the owner's address book."""

    owner = models.ForeignKey(
        settings.AUTH_USER_MODEL,
        on_delete=models.CASCADE,
        related_name="capsule_recipients",
        verbose_name=_("owner"),
    )
    name = models.CharField(max_length=120, verbose_name=_("name"))
    email = models.EmailField(blank=True, default="", verbose_name=_("email"))
    phone = models.CharField(max_length=20, blank=True, default="", verbose_name=_("phone"))
    user = models.ForeignKey(
        settings.AUTH_USER_MODEL,
        on_delete=models.SET_NULL,
        null=True,
        blank=True,
        related_name="+",
        verbose_name=_("user"),
    )

    class Meta:
        verbose_name = _("recipient")
        verbose_name_plural = _("recipients")
        ordering = ("name", "created_at")
        constraints = [
            models.CheckConstraint(condition=~Q(email="", phone=""), name="recipient_has_address"),
        ]

    def __str__(self) -> str:
        return self.name


class Draft(BaseModel):
    """An autosaved letter not yet sent."""

    owner = models.ForeignKey(
        settings.AUTH_USER_MODEL,
        on_delete=models.CASCADE,
        related_name="capsule_drafts",
        verbose_name=_("owner"),
    )
    title = models.CharField(max_length=200, blank=True, default="", verbose_name=_("title"))
    body = models.TextField(blank=True, default="", verbose_name=_("body"))
    theme = models.CharField(max_length=40, blank=True, default="", verbose_name=_("theme"))
    recipient = models.ForeignKey(
        Recipient,
        on_delete=models.SET_NULL,
        null=True,
        blank=True,
        related_name="drafts",
        verbose_name=_("recipient"),
    )

    class Meta:
        verbose_name = _("draft")
        verbose_name_plural = _("drafts")
        ordering = ("-updated_at",)

    def __str__(self) -> str:
        return self.title or "(untitled)"
