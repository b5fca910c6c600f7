from __future__ import annotations

from django.db import models

from tessera.core.ids import uuid7


class TimeStampedModel(models.Model):
    created_at = models.DateTimeField(auto_now_add=True, db_index=True)
    updated_at = models.DateTimeField(auto_now=True)

    class Meta:
        abstract = True


class BaseModel(TimeStampedModel):
    """A model whose public id is a time-ordered UUID and that records when it changed."""

    id = models.UUIDField(primary_key=True, default=uuid7, editable=False)

    class Meta:
        abstract = True


class IdempotencyRecord(TimeStampedModel):
    """The stored reply to one `(caller, route, Idempotency-Key)`; see `core.idempotency`."""

    class State(models.TextChoices):
        PROCESSING = "processing", "Processing"
        COMPLETED = "completed", "Completed"

    scope_hash = models.CharField(max_length=64, unique=True)
    caller = models.CharField(max_length=100)
    route = models.CharField(max_length=300)
    key = models.CharField(max_length=255)
    request_hash = models.CharField(max_length=64)
    state = models.CharField(max_length=20, choices=State.choices, default=State.PROCESSING)
    response_status = models.PositiveSmallIntegerField(null=True, blank=True)
    response_body = models.BinaryField(null=True, blank=True)
    response_content_type = models.CharField(max_length=100, blank=True, default="")
    expires_at = models.DateTimeField(db_index=True)

    class Meta:
        verbose_name = "idempotency record"

    def __str__(self) -> str:
        return f"{self.route} {self.key} ({self.state})"
