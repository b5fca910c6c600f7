"""Who did what to what, from where: security and money events, written by services."""

from __future__ import annotations

from django.conf import settings
from django.db import models
from django.utils.translation import gettext_lazy as _

from tessera.core.ids import uuid7


class AuditLog(models.Model):
    id = models.UUIDField(primary_key=True, default=uuid7, editable=False, verbose_name=_("ID"))
    actor = models.ForeignKey(
        settings.AUTH_USER_MODEL,
        null=True,
        blank=True,
        on_delete=models.SET_NULL,
        related_name="+",
        verbose_name=_("actor"),
    )
    action = models.CharField(max_length=100, db_index=True, verbose_name=_("action"))
    target_type = models.CharField(
        max_length=100, blank=True, default="", verbose_name=_("target type")
    )
    target_id = models.CharField(max_length=64, blank=True, default="", verbose_name=_("target ID"))
    changes = models.JSONField(default=dict, blank=True, verbose_name=_("changes"))
    ip_address = models.GenericIPAddressField(null=True, blank=True, verbose_name=_("IP address"))
    user_agent = models.CharField(
        max_length=500, blank=True, default="", verbose_name=_("user agent")
    )
    request_id = models.CharField(
        max_length=128, blank=True, default="", verbose_name=_("request ID")
    )
    created_at = models.DateTimeField(
        auto_now_add=True, db_index=True, verbose_name=_("created at")
    )

    class Meta:
        verbose_name = _("audit log entry")
        verbose_name_plural = _("audit log entries")
        ordering = ("-created_at",)
        indexes = [
            models.Index(fields=["target_type", "target_id"]),
            models.Index(fields=["actor", "-created_at"]),
        ]

    def __str__(self) -> str:
        return f"{self.action} {self.target_type}:{self.target_id}"


class AuditLogSummary(models.Model):
    """Daily count per action, recomputed by a beat job (idempotent for a given day)."""

    day = models.DateField(verbose_name=_("day"))
    action = models.CharField(max_length=100, verbose_name=_("action"))
    count = models.PositiveIntegerField(default=0, verbose_name=_("count"))
    updated_at = models.DateTimeField(auto_now=True, verbose_name=_("updated at"))

    class Meta:
        verbose_name = _("audit log summary")
        verbose_name_plural = _("audit log summaries")
        ordering = ("-day", "action")
        constraints = [
            models.UniqueConstraint(fields=["day", "action"], name="audit_summary_day_action"),
        ]

    def __str__(self) -> str:
        return f"{self.day} {self.action}: {self.count}"
