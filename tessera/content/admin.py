"""Admin: translated fields (Arabic right-to-left), image previews, ordering by buttons
(move up/down/top/bottom actions), a "refresh the website cache" action, history with
revert (django-simple-history)."""

from __future__ import annotations

from typing import Any

from django.contrib import admin, messages
from django.db import models
from django.db.models import QuerySet
from django.http import HttpRequest
from django.utils.html import format_html
from django.utils.translation import gettext_lazy as _
from modeltranslation.admin import TranslationAdmin, TranslationStackedInline
from simple_history.admin import SimpleHistoryAdmin

from tessera.content import services
from tessera.content.models import (
    FooterLink,
    Hero,
    HomePage,
    HomeSection,
    MenuItem,
    Partner,
    SeoEntry,
)


def _rtl(formfield: Any, db_field: Any) -> Any:
    if formfield is not None and db_field.name.endswith("_ar"):
        formfield.widget.attrs.update({"dir": "rtl", "lang": "ar"})
    return formfield


def _preview(image: Any) -> str:
    if not image:
        return "—"
    return format_html(
        '<img src="{}" alt="" style="max-height:60px;max-width:160px;object-fit:contain">',
        image.url,
    )


@admin.action(description=_("Refresh the website cache"))
def refresh_cache(modeladmin: Any, request: HttpRequest, queryset: QuerySet[Any]) -> None:
    try:
        result = services.document_rebuild()
    except Exception:  # noqa: BLE001 - any cache failure is reported to the editor
        services.logger.exception("content.admin_refresh_failed")
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


class ContentAdmin(SimpleHistoryAdmin, TranslationAdmin):
    actions = [refresh_cache]
    preview_field = ""

    def formfield_for_dbfield(self, db_field: Any, request: HttpRequest, **kwargs: Any) -> Any:
        if isinstance(db_field, models.URLField):
            kwargs.setdefault("assume_scheme", "https")
        return _rtl(super().formfield_for_dbfield(db_field, request, **kwargs), db_field)

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
    readonly_fields = ["order", "preview"]
    search_fields = ("title_en", "title_ar")


@admin.register(Partner)
class PartnerAdmin(OrderedContentAdmin):
    preview_field = "logo"
    list_display = ("name", "preview", "url", "is_visible", "order")
    readonly_fields = ["order", "preview"]
    search_fields = ("name_en", "name_ar")


@admin.register(FooterLink)
class FooterLinkAdmin(OrderedContentAdmin):
    list_display = ("title", "group", "url", "is_visible", "order")
    search_fields = ("title_en", "title_ar")


@admin.register(SeoEntry)
class SeoEntryAdmin(ContentAdmin):
    preview_field = "image"
    list_display = ("page", "title", "preview")
    readonly_fields = ("preview",)
    search_fields = ("page", "title_en", "title_ar")


class HomeSectionInline(TranslationStackedInline):
    model = HomeSection
    extra = 0
    fields = (
        "kind",
        "title",
        "body",
        "image",
        "preview",
        "is_visible",
        "publish_at",
        "unpublish_at",
        "order",
    )
    readonly_fields = ("preview",)
    ordering = ("order", "created_at")

    def formfield_for_dbfield(self, db_field: Any, request: HttpRequest, **kwargs: Any) -> Any:
        return _rtl(super().formfield_for_dbfield(db_field, request, **kwargs), db_field)

    @admin.display(description=_("Preview"))
    def preview(self, obj: Any) -> str:
        return _preview(obj.image)


@admin.register(HomePage)
class HomePageAdmin(ContentAdmin):
    list_display = ("key", "title")
    inlines = [HomeSectionInline]


@admin.register(HomeSection)
class HomeSectionAdmin(OrderedContentAdmin):
    preview_field = "image"
    list_display = ("title", "home_page", "kind", "preview", "is_visible", "order")
    readonly_fields = ["order", "preview"]
    list_filter = ["home_page", "is_visible"]
