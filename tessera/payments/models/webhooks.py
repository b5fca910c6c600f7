"""The webhook inbox: every delivery a gateway makes, kept raw before anything is done."""

from __future__ import annotations

from typing import Any, ClassVar

from django.db import models
from django.db.models import Q
from django.utils.translation import gettext_lazy as _

from tessera.core.models import BaseModel


class SignatureVerdict(models.TextChoices):
    VALID = "valid", _("Valid")
    MISSING = "missing", _("No signature")
    INVALID = "invalid", _("Invalid signature")
    MALFORMED = "malformed", _("Malformed")
    STALE = "stale", _("Stale")


class DeliveryState(models.TextChoices):
    RECEIVED = "received", _("Received, to process")
    PROCESSED = "processed", _("Processed")
    IGNORED = "ignored", _("Ignored (nothing to do)")
    DUPLICATE = "duplicate", _("Duplicate (acknowledged)")
    REJECTED = "rejected", _("Rejected")
    FAILED = "failed", _("Failed (dead letter)")


class WebhookDelivery(BaseModel):
    """One HTTP delivery to `/webhooks/<provider>`: body and headers as received, the
    signature verdict, and what processing did with it.

    `accepted` marks the first validly signed delivery of an event; the partial unique
    constraints on it make a second delivery of the same event (same event id, or the same
    body) a `duplicate` row pointing at the first, acknowledged and never processed.
    """

    provider = models.CharField(max_length=20, verbose_name=_("provider"))
    body = models.BinaryField(verbose_name=_("body"))
    body_sha256 = models.CharField(max_length=64, verbose_name=_("body SHA-256"))
    headers = models.JSONField(default=dict, verbose_name=_("headers"))
    signature_verdict = models.CharField(
        max_length=12, choices=SignatureVerdict.choices, verbose_name=_("signature verdict")
    )
    state = models.CharField(max_length=12, choices=DeliveryState.choices, verbose_name=_("state"))
    accepted = models.BooleanField(default=False, verbose_name=_("accepted"))
    event_id = models.CharField(max_length=200, blank=True, default="", verbose_name=_("event ID"))
    event_type = models.CharField(
        max_length=100, blank=True, default="", verbose_name=_("event type")
    )
    duplicate_of = models.ForeignKey(
        "self",
        null=True,
        blank=True,
        on_delete=models.SET_NULL,
        related_name="duplicates",
        verbose_name=_("duplicate of"),
    )
    attempts = models.PositiveIntegerField(default=0, verbose_name=_("attempts"))
    next_attempt_at = models.DateTimeField(null=True, blank=True, verbose_name=_("next attempt at"))
    processed_at = models.DateTimeField(null=True, blank=True, verbose_name=_("processed at"))
    outcome = models.CharField(max_length=300, blank=True, default="", verbose_name=_("outcome"))
    last_error = models.TextField(blank=True, default="", verbose_name=_("last error"))

    class Meta:
        verbose_name = _("webhook delivery")
        verbose_name_plural = _("webhook deliveries")
        ordering = ("-created_at",)
        permissions = (("replay_webhookdelivery", "Can replay dead-lettered webhook deliveries"),)
        constraints: ClassVar[list[Any]] = [
            models.UniqueConstraint(
                fields=["provider", "event_id"],
                condition=Q(accepted=True) & ~Q(event_id=""),
                name="payments_webhook_event_once",
            ),
            models.UniqueConstraint(
                fields=["provider", "body_sha256"],
                condition=Q(accepted=True),
                name="payments_webhook_body_once",
            ),
            models.CheckConstraint(
                condition=Q(state__in=DeliveryState.values), name="payments_webhook_state_valid"
            ),
            models.CheckConstraint(
                condition=Q(signature_verdict__in=SignatureVerdict.values),
                name="payments_webhook_verdict_valid",
            ),
            # Only a validly signed delivery is ever processed.
            models.CheckConstraint(
                condition=Q(accepted=False) | Q(signature_verdict=SignatureVerdict.VALID),
                name="payments_webhook_accepted_signed",
            ),
        ]
        indexes: ClassVar[list[Any]] = [
            models.Index(fields=["state", "next_attempt_at"], name="payments_webhook_todo_idx"),
            models.Index(
                fields=["provider", "state", "-created_at"], name="payments_webhook_list_idx"
            ),
        ]

    def __str__(self) -> str:
        return f"{self.provider} {self.event_type or '?'} ({self.state})"
