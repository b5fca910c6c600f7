"""Stored files and their image variants."""

from __future__ import annotations

from typing import Any, ClassVar

from django.conf import settings
from django.db import models
from django.db.models import Q
from django.utils.translation import gettext_lazy as _

from tessera.core.models import BaseModel
from tessera.files.purposes import Purpose, Visibility


class StoredFile(BaseModel):
    """One uploaded (or server-written) file: where it is stored and what it really is.

    `storage_key` is made by Tessera (visibility, purpose, id), never from the client's file
    name; `content_type` is detected from the bytes. For images, `size`, `sha256`, `width`
    and `height` describe the stored original once it has been re-encoded without metadata.
    """

    class Status(models.TextChoices):
        PENDING = "pending", _("Awaiting upload")
        UPLOADED = "uploaded", _("Uploaded, not verified")
        PROCESSING = "processing", _("Processing")
        READY = "ready", _("Ready")
        REJECTED = "rejected", _("Rejected")

    # Which status may follow which; services move a file only along these.
    TRANSITIONS: ClassVar[dict[str, frozenset[str]]] = {
        Status.PENDING: frozenset(
            {Status.UPLOADED, Status.PROCESSING, Status.READY, Status.REJECTED}
        ),
        Status.UPLOADED: frozenset({Status.PROCESSING, Status.READY, Status.REJECTED}),
        Status.PROCESSING: frozenset({Status.READY, Status.REJECTED}),
        Status.READY: frozenset(),
        Status.REJECTED: frozenset(),
    }

    owner = models.ForeignKey(
        settings.AUTH_USER_MODEL,
        null=True,
        blank=True,
        on_delete=models.CASCADE,
        related_name="stored_files",
        help_text=_("Empty for files the system owns."),
        verbose_name=_("owner"),
    )
    purpose = models.CharField(max_length=32, choices=Purpose.choices, verbose_name=_("purpose"))
    visibility = models.CharField(
        max_length=10, choices=Visibility.choices, verbose_name=_("visibility")
    )
    status = models.CharField(
        max_length=12, choices=Status.choices, default=Status.PENDING, verbose_name=_("status")
    )
    storage_key = models.CharField(max_length=300, unique=True, verbose_name=_("storage key"))
    original_name = models.CharField(max_length=255, verbose_name=_("original name"))
    content_type = models.CharField(
        max_length=100, blank=True, default="", verbose_name=_("content type")
    )
    size = models.PositiveBigIntegerField(default=0, verbose_name=_("size"))
    sha256 = models.CharField(max_length=64, blank=True, default="", verbose_name=_("SHA-256"))
    width = models.PositiveIntegerField(null=True, blank=True, verbose_name=_("width"))
    height = models.PositiveIntegerField(null=True, blank=True, verbose_name=_("height"))
    processing_task_id = models.UUIDField(
        null=True, blank=True, verbose_name=_("processing task ID")
    )
    rejection_code = models.CharField(
        max_length=50, blank=True, default="", verbose_name=_("rejection code")
    )
    rejection_message = models.CharField(
        max_length=300, blank=True, default="", verbose_name=_("rejection message")
    )
    upload_expires_at = models.DateTimeField(
        null=True, blank=True, verbose_name=_("upload expires at")
    )
    ready_at = models.DateTimeField(null=True, blank=True, verbose_name=_("ready at"))

    class Meta:
        verbose_name = _("stored file")
        verbose_name_plural = _("stored files")
        ordering = ("-created_at", "-id")
        indexes: ClassVar[list[Any]] = [
            models.Index(fields=["owner", "-created_at"], name="files_owner_created_idx"),
            models.Index(fields=["status", "created_at"], name="files_status_created_idx"),
            models.Index(fields=["purpose", "status"], name="files_purpose_status_idx"),
        ]
        constraints: ClassVar[list[Any]] = [
            models.CheckConstraint(
                condition=Q(status__in=["pending", "uploaded", "processing", "ready", "rejected"]),
                name="files_storedfile_status_valid",
            ),
            models.CheckConstraint(
                condition=Q(purpose__in=Purpose.values), name="files_storedfile_purpose_valid"
            ),
            models.CheckConstraint(
                condition=Q(visibility__in=Visibility.values),
                name="files_storedfile_visibility_valid",
            ),
            models.CheckConstraint(
                condition=Q(width__isnull=True, height__isnull=True) | Q(width__gt=0, height__gt=0),
                name="files_storedfile_dimensions_together",
            ),
            models.CheckConstraint(
                condition=~Q(status="ready")
                | (Q(size__gt=0) & ~Q(sha256="") & ~Q(content_type="")),
                name="files_storedfile_ready_is_complete",
            ),
            models.CheckConstraint(
                condition=~Q(status="pending") | Q(upload_expires_at__isnull=False),
                name="files_storedfile_pending_expires",
            ),
        ]

    def __str__(self) -> str:
        return f"{self.original_name} ({self.purpose}, {self.status})"

    @property
    def is_image(self) -> bool:
        return self.content_type.startswith("image/")

    @property
    def is_public(self) -> bool:
        return self.visibility == Visibility.PUBLIC

    def stored_keys(self) -> list[str]:
        """Every storage object this file owns: the original and its variants."""
        return [self.storage_key, *(variant.storage_key for variant in self.variants.all())]


class FileVariant(BaseModel):
    """A derived rendition of an image: a thumbnail, a medium size, their WebP versions."""

    class Name(models.TextChoices):
        THUMBNAIL = "thumbnail", _("Thumbnail (256 px)")
        MEDIUM = "medium", _("Medium (1024 px)")
        THUMBNAIL_WEBP = "thumbnail_webp", _("Thumbnail, WebP")
        MEDIUM_WEBP = "medium_webp", _("Medium, WebP")

    file = models.ForeignKey(
        StoredFile, on_delete=models.CASCADE, related_name="variants", verbose_name=_("file")
    )
    name = models.CharField(max_length=20, choices=Name.choices, verbose_name=_("name"))
    storage_key = models.CharField(max_length=300, unique=True, verbose_name=_("storage key"))
    content_type = models.CharField(max_length=100, verbose_name=_("content type"))
    size = models.PositiveBigIntegerField(verbose_name=_("size"))
    width = models.PositiveIntegerField(verbose_name=_("width"))
    height = models.PositiveIntegerField(verbose_name=_("height"))

    class Meta:
        verbose_name = _("file variant")
        verbose_name_plural = _("file variants")
        ordering = ("file", "name")
        constraints: ClassVar[list[Any]] = [
            models.UniqueConstraint(fields=["file", "name"], name="files_variant_file_name"),
            models.CheckConstraint(
                condition=Q(name__in=["thumbnail", "medium", "thumbnail_webp", "medium_webp"]),
                name="files_variant_name_valid",
            ),
        ]

    def __str__(self) -> str:
        return f"{self.name} of {self.file_id}"
