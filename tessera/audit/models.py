"""Who did what to what, from where: security and money events, written by services."""

from __future__ import annotations

from django.conf import settings
from django.db import models

from tessera.core.ids import uuid7


class AuditLog(models.Model):
    id = models.UUIDField(primary_key=True, default=uuid7, editable=False)
    actor = models.ForeignKey(
        settings.AUTH_USER_MODEL,
        null=True,
        blank=True,
        on_delete=models.SET_NULL,
        related_name="+",
    )
    action = models.CharField(max_length=100, db_index=True)
    target_type = models.CharField(max_length=100, blank=True, default="")
    target_id = models.CharField(max_length=64, blank=True, default="")
    changes = models.JSONField(default=dict, blank=True)
    ip_address = models.GenericIPAddressField(null=True, blank=True)
    user_agent = models.CharField(max_length=500, blank=True, default="")
    request_id = models.CharField(max_length=128, blank=True, default="")
    created_at = models.DateTimeField(auto_now_add=True, db_index=True)

    class Meta:
        ordering = ("-created_at",)
        indexes = [
            models.Index(fields=["target_type", "target_id"]),
            models.Index(fields=["actor", "-created_at"]),
        ]

    def __str__(self) -> str:
        return f"{self.action} {self.target_type}:{self.target_id}"


class AuditLogSummary(models.Model):
    """Daily count per action, recomputed by a beat job (idempotent for a given day)."""

    day = models.DateField()
    action = models.CharField(max_length=100)
    count = models.PositiveIntegerField(default=0)
    updated_at = models.DateTimeField(auto_now=True)

    class Meta:
        ordering = ("-day", "action")
        constraints = [
            models.UniqueConstraint(fields=["day", "action"], name="audit_summary_day_action"),
        ]
        verbose_name_plural = "audit log summaries"

    def __str__(self) -> str:
        return f"{self.day} {self.action}: {self.count}"
