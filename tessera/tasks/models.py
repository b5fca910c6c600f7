"""What a caller needs to poll a background job, without a Celery result back end."""

from __future__ import annotations

from django.conf import settings
from django.db import models

from tessera.core.models import TimeStampedModel


class TaskRecord(TimeStampedModel):
    """One Celery task run: its state, progress and result, and who may see it.

    Rows with no owner are system tasks; they appear here when they fail for good, which
    makes this table the dead-letter list in the admin.
    """

    class State(models.TextChoices):
        PENDING = "PENDING", "Pending"
        STARTED = "STARTED", "Started"
        RETRY = "RETRY", "Retrying"
        SUCCESS = "SUCCESS", "Succeeded"
        FAILURE = "FAILURE", "Failed"

    id = models.UUIDField(primary_key=True, editable=False)
    owner = models.ForeignKey(
        settings.AUTH_USER_MODEL,
        null=True,
        blank=True,
        on_delete=models.CASCADE,
        related_name="task_records",
    )
    name = models.CharField(max_length=200, db_index=True)
    state = models.CharField(
        max_length=10, choices=State.choices, default=State.PENDING, db_index=True
    )
    progress_current = models.PositiveIntegerField(default=0)
    progress_total = models.PositiveIntegerField(default=0)
    progress_message = models.CharField(max_length=200, blank=True, default="")
    result = models.JSONField(null=True, blank=True)
    error = models.TextField(blank=True, default="")
    retries = models.PositiveIntegerField(default=0)
    arguments = models.JSONField(default=dict, blank=True)
    started_at = models.DateTimeField(null=True, blank=True)
    finished_at = models.DateTimeField(null=True, blank=True)

    class Meta:
        ordering = ("-created_at",)
        indexes = [models.Index(fields=["owner", "-created_at"])]

    def __str__(self) -> str:
        return f"{self.name} {self.id} ({self.state})"
