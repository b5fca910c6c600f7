"""Files by owner, purpose, status and size, with previews. Deleting removes stored objects."""

from __future__ import annotations

from typing import Any

from django.contrib import admin
from django.db.models import QuerySet
from django.http import HttpRequest
from django.template.defaultfilters import filesizeformat
from django.utils.html import format_html
from django.utils.safestring import SafeString
from django.utils.translation import gettext_lazy as _

from tessera.files import selectors
from tessera.files.admin_mixins import StoreImagesAdminMixin
from tessera.files.models import FileVariant, StoredFile
from tessera.files.processing import objects_delete


class SizeFilter(admin.SimpleListFilter):
    title = _("size")
    parameter_name = "size"
    _BANDS = {
        "small": (0, 1024 * 1024),
        "medium": (1024 * 1024, 20 * 1024 * 1024),
        "large": (20 * 1024 * 1024, None),
    }

    def lookups(self, request: HttpRequest, model_admin: Any) -> list[tuple[str, Any]]:
        return [("small", _("under 1 MB")), ("medium", _("1-20 MB")), ("large", _("over 20 MB"))]

    def queryset(self, request: HttpRequest, queryset: QuerySet[Any]) -> QuerySet[Any]:
        band = self._BANDS.get(self.value() or "")
        if band is None:
            return queryset
        low, high = band
        queryset = queryset.filter(size__gte=low)
        return queryset.filter(size__lt=high) if high is not None else queryset


class FileVariantInline(admin.TabularInline):
    model = FileVariant
    extra = 0
    can_delete = False
    fields = ("name", "content_type", "width", "height", "size", "storage_key")
    readonly_fields = fields

    def has_add_permission(self, request: HttpRequest, obj: Any = None) -> bool:
        return False


def _preview_url(obj: StoredFile) -> str | None:
    if obj.status != StoredFile.Status.READY or not obj.is_image:
        return None
    ref = selectors.file_ref(obj, grant_private=True)
    if ref is None:
        return None
    thumbnail = ref.variants.thumbnail
    return thumbnail.url if thumbnail is not None else ref.url


@admin.register(StoredFile)
class StoredFileAdmin(StoreImagesAdminMixin, admin.ModelAdmin):
    list_display = (
        "preview",
        "original_name",
        "owner",
        "purpose",
        "status",
        "visibility",
        "content_type",
        "human_size",
        "created_at",
    )
    list_filter = ("purpose", "status", "visibility", "content_type", SizeFilter)
    search_fields = ("=id", "original_name", "owner__email", "sha256", "storage_key")
    list_select_related = ("owner",)
    raw_id_fields = ("owner",)
    date_hierarchy = "created_at"
    ordering = ("-created_at",)
    inlines = (FileVariantInline,)
    readonly_fields = (
        "large_preview",
        *(field.name for field in StoredFile._meta.fields if field.name != "owner"),
    )

    def has_add_permission(self, request: HttpRequest) -> bool:
        return False

    @admin.display(description=_("preview"))
    def preview(self, obj: StoredFile) -> SafeString | str:
        url = _preview_url(obj)
        if url is None:
            return "—"
        return format_html('<img src="{}" alt="" style="max-height:48px;max-width:64px">', url)

    @admin.display(description=_("preview"))
    def large_preview(self, obj: StoredFile) -> SafeString | str:
        url = _preview_url(obj)
        if url is None:
            return "—"
        return format_html('<img src="{}" alt="" style="max-width:256px">', url)

    @admin.display(description=_("size"), ordering="size")
    def human_size(self, obj: StoredFile) -> str:
        return str(filesizeformat(obj.size))

    def delete_model(self, request: HttpRequest, obj: StoredFile) -> None:
        keys = obj.stored_keys()
        super().delete_model(request, obj)
        objects_delete(keys)

    def delete_queryset(self, request: HttpRequest, queryset: QuerySet[StoredFile]) -> None:
        keys = [
            key for stored in queryset.prefetch_related("variants") for key in stored.stored_keys()
        ]
        super().delete_queryset(request, queryset)
        objects_delete(keys)
