# modeltranslation swaps in its own managers at run time, which django-stubs cannot resolve.
# mypy: disable-error-code="django-manager-missing"
"""ADMSC website content. Translated fields (`title_en`, `title_ar`) come from
django-modeltranslation (`translation.py`); history from django-simple-history."""

from __future__ import annotations

from typing import Any

from django.core.exceptions import ValidationError
from django.db import models
from django.db.models import Q
from django.utils import timezone
from django.utils.translation import gettext_lazy as _

from tessera.core.models import BaseModel
from tessera.files.fields import StoredFileField
from tessera.files.purposes import Purpose as FilePurpose


class ContentItem(BaseModel):
    """Something on the site that is shown in `order`, may be hidden, and may be scheduled."""

    order = models.PositiveIntegerField(default=0, db_index=True, verbose_name=_("order"))
    is_visible = models.BooleanField(default=True, verbose_name=_("is visible"))
    publish_at = models.DateTimeField(
        null=True, blank=True, help_text=_("Shown from then on."), verbose_name=_("publish at")
    )
    unpublish_at = models.DateTimeField(
        null=True, blank=True, help_text=_("Hidden from then on."), verbose_name=_("unpublish at")
    )

    class Meta:
        abstract = True
        ordering = ["order", "created_at"]

    def clean(self) -> None:
        super().clean()
        if self.publish_at and self.unpublish_at and self.unpublish_at <= self.publish_at:
            raise ValidationError({"unpublish_at": _("Must be after the publication time.")})

    def is_live(self, at: Any = None) -> bool:
        at = at or timezone.now()
        return (
            self.is_visible
            and (self.publish_at is None or self.publish_at <= at)
            and (self.unpublish_at is None or self.unpublish_at > at)
        )


def _schedule_constraint(name: str) -> models.CheckConstraint:
    return models.CheckConstraint(
        condition=Q(publish_at__isnull=True)
        | Q(unpublish_at__isnull=True)
        | Q(unpublish_at__gt=models.F("publish_at")),
        name=name,
    )


def _image_field(verbose_name: Any) -> StoredFileField:
    """A public image stored by `tessera.files` (uploaded in the admin through `media.py`)."""
    return StoredFileField(
        verbose_name=verbose_name,
        purpose=FilePurpose.CONTENT_IMAGE,
        help_text=_("A PNG, JPEG or WebP image; its thumbnail and WebP versions are made for you."),
    )


class MenuItem(ContentItem):
    title = models.CharField(max_length=120, verbose_name=_("title"))
    url = models.CharField(max_length=500, verbose_name=_("URL"))
    parent = models.ForeignKey(
        "self",
        null=True,
        blank=True,
        on_delete=models.CASCADE,
        related_name="children",
        verbose_name=_("parent"),
    )
    open_in_new_tab = models.BooleanField(default=False, verbose_name=_("open in new tab"))

    class Meta(ContentItem.Meta):
        verbose_name = _("menu item")
        verbose_name_plural = _("menu items")
        constraints = [_schedule_constraint("content_menuitem_schedule_valid")]

    def __str__(self) -> str:
        return self.title


class Hero(ContentItem):
    title = models.CharField(max_length=200, verbose_name=_("title"))
    subtitle = models.CharField(max_length=300, blank=True, verbose_name=_("subtitle"))
    button_text = models.CharField(max_length=60, blank=True, verbose_name=_("button text"))
    button_url = models.CharField(max_length=500, blank=True, verbose_name=_("button URL"))
    image = _image_field(_("image"))

    class Meta(ContentItem.Meta):
        verbose_name = _("hero")
        verbose_name_plural = _("heroes")
        constraints = [_schedule_constraint("content_hero_schedule_valid")]

    def __str__(self) -> str:
        return self.title


class Partner(ContentItem):
    name = models.CharField(max_length=150, verbose_name=_("name"))
    description = models.TextField(blank=True, verbose_name=_("description"))
    url = models.URLField(max_length=500, blank=True, verbose_name=_("URL"))
    logo = _image_field(_("logo"))

    class Meta(ContentItem.Meta):
        verbose_name = _("partner")
        verbose_name_plural = _("partners")
        constraints = [_schedule_constraint("content_partner_schedule_valid")]

    def __str__(self) -> str:
        return self.name


class FooterLink(ContentItem):
    title = models.CharField(max_length=120, verbose_name=_("title"))
    url = models.CharField(max_length=500, verbose_name=_("URL"))
    group = models.CharField(
        max_length=80, blank=True, help_text=_("The footer column."), verbose_name=_("group")
    )

    class Meta(ContentItem.Meta):
        verbose_name = _("footer link")
        verbose_name_plural = _("footer links")
        constraints = [_schedule_constraint("content_footerlink_schedule_valid")]

    def __str__(self) -> str:
        return self.title


class SeoEntry(BaseModel):
    page = models.SlugField(
        max_length=80, unique=True, help_text=_("e.g. home, about"), verbose_name=_("page")
    )
    title = models.CharField(max_length=70, verbose_name=_("title"))
    description = models.CharField(max_length=170, blank=True, verbose_name=_("description"))
    keywords = models.CharField(max_length=255, blank=True, verbose_name=_("keywords"))
    image = _image_field(_("image"))

    class Meta:
        verbose_name = _("SEO entry")
        verbose_name_plural = _("SEO entries")
        ordering = ["page"]

    def __str__(self) -> str:
        return self.page


class HomePage(BaseModel):
    """The home page: one row (`key="home"`) with its ordered sections."""

    key = models.SlugField(max_length=40, unique=True, default="home", verbose_name=_("key"))
    title = models.CharField(max_length=200, verbose_name=_("title"))
    intro = models.TextField(blank=True, verbose_name=_("intro"))

    class Meta:
        verbose_name = _("home page")
        verbose_name_plural = _("home pages")

    def __str__(self) -> str:
        return self.title


class HomeSection(ContentItem):
    class Kind(models.TextChoices):
        TEXT = "text", _("Text")
        FEATURES = "features", _("Features")
        STATS = "stats", _("Statistics")
        CALL_TO_ACTION = "cta", _("Call to action")

    home_page = models.ForeignKey(
        HomePage, on_delete=models.CASCADE, related_name="sections", verbose_name=_("home page")
    )
    kind = models.CharField(
        max_length=20, choices=Kind.choices, default=Kind.TEXT, verbose_name=_("kind")
    )
    title = models.CharField(max_length=200, verbose_name=_("title"))
    body = models.TextField(blank=True, verbose_name=_("body"))
    image = _image_field(_("image"))

    class Meta(ContentItem.Meta):
        verbose_name = _("home page section")
        verbose_name_plural = _("home page sections")
        constraints = [_schedule_constraint("content_homesection_schedule_valid")]

    def __str__(self) -> str:
        return self.title


# Every model with an image, and the field holding it.
IMAGE_FIELDS: tuple[tuple[type[models.Model], str], ...] = (
    (Hero, "image"),
    (Partner, "logo"),
    (SeoEntry, "image"),
    (HomeSection, "image"),
)

ORDERED_MODELS: tuple[type[ContentItem], ...] = (MenuItem, Hero, Partner, FooterLink, HomeSection)
CONTENT_MODELS: tuple[type[models.Model], ...] = (*ORDERED_MODELS, SeoEntry, HomePage)
