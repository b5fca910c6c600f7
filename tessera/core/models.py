from __future__ import annotations

from django.db import models
from django.utils.translation import gettext_lazy as _

from tessera.core.ids import uuid7


class TimeStampedModel(models.Model):
    created_at = models.DateTimeField(_("created at"), auto_now_add=True, db_index=True)
    updated_at = models.DateTimeField(_("updated at"), auto_now=True)

    class Meta:
        abstract = True


class BaseModel(TimeStampedModel):
    """A model whose public id is a time-ordered UUID and that records when it changed."""

    id = models.UUIDField(_("ID"), primary_key=True, default=uuid7, editable=False)

    class Meta:
        abstract = True


class IdempotencyRecord(TimeStampedModel):
    """The stored reply to one `(caller, route, Idempotency-Key)`; see `core.idempotency`."""

    class State(models.TextChoices):
        PROCESSING = "processing", _("Processing")
        COMPLETED = "completed", _("Completed")

    scope_hash = models.CharField(_("scope hash"), max_length=64, unique=True)
    caller = models.CharField(_("caller"), max_length=100)
    route = models.CharField(_("route"), max_length=300)
    key = models.CharField(_("key"), max_length=255)
    request_hash = models.CharField(_("request hash"), max_length=64)
    state = models.CharField(
        _("state"), max_length=20, choices=State.choices, default=State.PROCESSING
    )
    response_status = models.PositiveSmallIntegerField(_("response status"), null=True, blank=True)
    response_body = models.BinaryField(_("response body"), null=True, blank=True)
    response_content_type = models.CharField(
        _("response content type"), max_length=100, blank=True, default=""
    )
    expires_at = models.DateTimeField(_("expires at"), db_index=True)

    class Meta:
        verbose_name = _("idempotency record")
        verbose_name_plural = _("idempotency records")

    def __str__(self) -> str:
        return f"{self.route} {self.key} ({self.state})"
