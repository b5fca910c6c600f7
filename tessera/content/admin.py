"""Admin: translated fields (Arabic right-to-left), image previews, ordering by buttons
(move up/down/top/bottom actions), a "refresh the website cache" action, history with
revert (django-simple-history)."""

from __future__ import annotations

from typing import Any

from django import forms
from django.contrib import admin, messages
from django.core.exceptions import ValidationError
from django.core.files.uploadedfile import UploadedFile
from django.db import models
from django.db.models import QuerySet
from django.http import HttpRequest
from django.template.defaultfilters import filesizeformat
from django.utils.html import format_html
from django.utils.text import capfirst
from django.utils.translation import gettext_lazy as _
from modeltranslation.admin import TranslationAdmin, TranslationStackedInline
from simple_history.admin import SimpleHistoryAdmin

from tessera.content import media, services
from tessera.content.models import (
    FooterLink,
    Hero,
    HomePage,
    HomeSection,
    MenuItem,
    Partner,
    SeoEntry,
)
from tessera.core.outages import CACHE_CONNECTION_ERRORS, outage_report
from tessera.files.admin_mixins import StoreImagesAdminMixin
from tessera.files.fields import StoredFileField
from tessera.files.models import StoredFile


def _rtl(formfield: Any, db_field: Any) -> Any:
    if formfield is not None and db_field.name.endswith("_ar"):
        formfield.widget.attrs.update({"dir": "rtl", "lang": "ar"})
    return formfield


def _preview(stored: StoredFile | None, *, height: int = 60, width: int = 160) -> str:
    if stored is None:
        return "—"
    links = media.image_links(stored)
    url = links.preview_url if links is not None else None
    if url is None:
        if stored.status == StoredFile.Status.REJECTED:
            return str(_("Rejected: %(reason)s") % {"reason": stored.rejection_message})
        return str(_("Processing…"))
    return format_html(
        '<img src="{}" alt="" style="max-height:{}px;max-width:{}px;object-fit:contain">',
        url,
        height,
        width,
    )


class CurrentImage:
    """The stored image a form field holds, as the upload widget shows it."""

    def __init__(self, stored: StoredFile) -> None:
        self.stored = stored
        links = media.image_links(stored)
        self.url = (links.url if links is not None else None) or ""
        self.preview = _preview(stored, height=120, width=240)

    def __str__(self) -> str:
        return self.stored.original_name


class ContentImageInput(forms.ClearableFileInput):
    """A file input with the current image's thumbnail and a "clear" box."""

    template_name = "content/widgets/image_input.html"

    def is_initial(self, value: Any) -> bool:
        return isinstance(value, CurrentImage)


# A form field's value when the editor neither uploaded nor cleared an image.
UNCHANGED = object()


class ContentImageField(forms.FileField):
    """An upload for an image field: checked and stored through `tessera.files` by
    `ContentImageForm.clean` once the rest of the form is valid."""

    widget = ContentImageInput

    def __init__(self, **kwargs: Any) -> None:
        kwargs.setdefault("required", False)
        super().__init__(**kwargs)
        self.widget.attrs.setdefault("accept", media.ACCEPTED_TYPES)

    def prepare_value(self, value: Any) -> Any:
        if isinstance(value, StoredFile):
            return CurrentImage(value)
        if value is None or isinstance(value, UploadedFile | CurrentImage):
            return value
        stored = StoredFile.objects.filter(pk=value).prefetch_related("variants").first()
        return CurrentImage(stored) if stored is not None else None

    def clean(self, data: Any, initial: Any = None) -> Any:
        value = super().clean(data, initial)
        if value is False:
            return None
        if isinstance(value, UploadedFile):
            media.image_size_check(value.size or 0)  # refused before it is copied anywhere
            return value
        return UNCHANGED

    def has_changed(self, initial: Any, data: Any) -> bool:
        return data is not None


class ContentImageForm(forms.ModelForm):
    """Stores the uploaded images once every other field is valid, so that a form sent back
    with errors stores nothing; a refused image is an error on its field."""

    def clean(self) -> dict[str, Any]:
        cleaned = super().clean() or {}
        for name, field in self.fields.items():
            if not isinstance(field, ContentImageField) or name not in cleaned:
                continue
            value = cleaned[name]
            if value is UNCHANGED or (isinstance(value, UploadedFile) and self.errors):
                del cleaned[name]
            elif isinstance(value, UploadedFile):
                try:
                    cleaned[name] = media.content_image_store(
                        content=value, name=value.name or "image"
                    )
                except ValidationError as error:
                    self.add_error(name, error)
        return cleaned


def _image_formfield(db_field: Any) -> ContentImageField:
    return ContentImageField(
        label=capfirst(db_field.verbose_name),  # stays lazy: shown in the page's language
        help_text=_(
            "PNG, JPEG or WebP, at most %(size)s; thumbnails and WebP versions are made "
            "automatically."
        )
        % {"size": filesizeformat(media.max_bytes())},
    )


@admin.action(description=_("Refresh the website cache"))
def refresh_cache(modeladmin: Any, request: HttpRequest, queryset: QuerySet[Any]) -> None:
    try:
        result = services.document_rebuild()
    except CACHE_CONNECTION_ERRORS as exc:  # a database or code error stays a server error
        outage_report("cache", exc, event="content.cache_unavailable")
        modeladmin.message_user(
            request,
            _("The cache is unreachable; the site is served from the database."),
            messages.ERROR,
        )
        return
    modeladmin.message_user(
        request,
        _("Website cache refreshed: version %(version)s, %(size)s bytes.")
        % {"version": result.version, "size": result.size_bytes},
        messages.SUCCESS,
    )


def _mover(direction: str, label: Any) -> Any:
    def move(modeladmin: Any, request: HttpRequest, queryset: QuerySet[Any]) -> None:
        items = list(queryset.order_by("order", "created_at"))
        if direction in ("down", "top"):
            items.reverse()
        for item in items:
            services.item_move(item=item, direction=direction)

    move.__name__ = f"move_{direction}"
    return admin.action(description=label)(move)


MOVE_ACTIONS = [
    _mover("up", _("Move selected up")),
    _mover("down", _("Move selected down")),
    _mover("top", _("Move selected to the top")),
    _mover("bottom", _("Move selected to the bottom")),
]


class ContentAdmin(StoreImagesAdminMixin, SimpleHistoryAdmin, TranslationAdmin):
    form = ContentImageForm
    actions = [refresh_cache]
    preview_field = ""

    def formfield_for_dbfield(self, db_field: Any, request: HttpRequest, **kwargs: Any) -> Any:
        if isinstance(db_field, StoredFileField):
            return _image_formfield(db_field)
        if isinstance(db_field, models.URLField):
            kwargs.setdefault("assume_scheme", "https")
        return _rtl(super().formfield_for_dbfield(db_field, request, **kwargs), db_field)

    def get_queryset(self, request: HttpRequest) -> QuerySet[Any]:
        queryset = super().get_queryset(request)
        if self.preview_field:
            queryset = queryset.select_related(self.preview_field).prefetch_related(
                f"{self.preview_field}__variants"
            )
        return queryset

    @admin.display(description=_("Preview"))
    def preview(self, obj: Any) -> str:
        return _preview(getattr(obj, self.preview_field, None))


class OrderedContentAdmin(ContentAdmin):
    actions = [*MOVE_ACTIONS, refresh_cache]
    list_filter = ["is_visible"]
    readonly_fields = ["order"]

    def save_model(self, request: HttpRequest, obj: Any, form: Any, change: bool) -> None:  # noqa: FBT001
        if not change:
            obj.order = services.next_order(model=type(obj))
        super().save_model(request, obj, form, change)


@admin.register(MenuItem)
class MenuItemAdmin(OrderedContentAdmin):
    list_display = ("title", "url", "parent", "is_visible", "publish_at", "unpublish_at", "order")
    search_fields = ("title_en", "title_ar")


@admin.register(Hero)
class HeroAdmin(OrderedContentAdmin):
    preview_field = "image"
    list_display = ("title", "preview", "is_visible", "publish_at", "unpublish_at", "order")
    search_fields = ("title_en", "title_ar")


@admin.register(Partner)
class PartnerAdmin(OrderedContentAdmin):
    preview_field = "logo"
    list_display = ("name", "preview", "url", "is_visible", "order")
    search_fields = ("name_en", "name_ar")


@admin.register(FooterLink)
class FooterLinkAdmin(OrderedContentAdmin):
    list_display = ("title", "group", "url", "is_visible", "order")
    search_fields = ("title_en", "title_ar")


@admin.register(SeoEntry)
class SeoEntryAdmin(ContentAdmin):
    preview_field = "image"
    list_display = ("page", "title", "preview")
    search_fields = ("page", "title_en", "title_ar")


class HomeSectionInline(TranslationStackedInline):
    model = HomeSection
    form = ContentImageForm
    extra = 0
    fields = (
        "kind",
        "title",
        "body",
        "image",
        "is_visible",
        "publish_at",
        "unpublish_at",
        "order",
    )
    ordering = ("order", "created_at")

    def formfield_for_dbfield(self, db_field: Any, request: HttpRequest, **kwargs: Any) -> Any:
        if isinstance(db_field, StoredFileField):
            return _image_formfield(db_field)
        return _rtl(super().formfield_for_dbfield(db_field, request, **kwargs), db_field)

    def get_queryset(self, request: HttpRequest) -> QuerySet[Any]:
        return super().get_queryset(request).select_related("image")


@admin.register(HomePage)
class HomePageAdmin(ContentAdmin):
    list_display = ("key", "title")
    inlines = [HomeSectionInline]


@admin.register(HomeSection)
class HomeSectionAdmin(OrderedContentAdmin):
    preview_field = "image"
    list_display = ("title", "home_page", "kind", "preview", "is_visible", "order")
    list_filter = ["home_page", "is_visible"]
