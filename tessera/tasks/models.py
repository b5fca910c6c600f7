"""What a caller needs to poll a background job, without a Celery result back end."""

from __future__ import annotations

from django.conf import settings
from django.db import models
from django.utils.translation import gettext_lazy as _

from tessera.core.models import TimeStampedModel


class TaskRecord(TimeStampedModel):
    """One Celery task run: its state, progress and result, and who may see it.

    Rows with no owner are system tasks; they appear here when they fail for good, which
    makes this table the dead-letter list in the admin.
    """

    class State(models.TextChoices):
        PENDING = "PENDING", _("Pending")
        STARTED = "STARTED", _("Started")
        RETRY = "RETRY", _("Retrying")
        SUCCESS = "SUCCESS", _("Succeeded")
        FAILURE = "FAILURE", _("Failed")

    id = models.UUIDField(primary_key=True, editable=False, verbose_name=_("ID"))
    owner = models.ForeignKey(
        settings.AUTH_USER_MODEL,
        null=True,
        blank=True,
        on_delete=models.CASCADE,
        related_name="task_records",
        verbose_name=_("owner"),
    )
    name = models.CharField(max_length=200, db_index=True, verbose_name=_("name"))
    state = models.CharField(
        max_length=10,
        choices=State.choices,
        default=State.PENDING,
        db_index=True,
        verbose_name=_("state"),
    )
    progress_current = models.PositiveIntegerField(default=0, verbose_name=_("progress current"))
    progress_total = models.PositiveIntegerField(default=0, verbose_name=_("progress total"))
    progress_message = models.CharField(
        max_length=200, blank=True, default="", verbose_name=_("progress message")
    )
    result = models.JSONField(null=True, blank=True, verbose_name=_("result"))
    error = models.TextField(blank=True, default="", verbose_name=_("error"))
    retries = models.PositiveIntegerField(default=0, verbose_name=_("retries"))
    arguments = models.JSONField(default=dict, blank=True, verbose_name=_("arguments"))
    started_at = models.DateTimeField(null=True, blank=True, verbose_name=_("started at"))
    finished_at = models.DateTimeField(null=True, blank=True, verbose_name=_("finished at"))

    class Meta:
        verbose_name = _("task record")
        verbose_name_plural = _("task records")
        ordering = ("-created_at",)
        indexes = [models.Index(fields=["owner", "-created_at"])]

    def __str__(self) -> str:
        return f"{self.name} {self.id} ({self.state})"
