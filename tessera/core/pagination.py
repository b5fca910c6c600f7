"""Page and cursor pagination for list routes, camelCase and capped."""

from __future__ import annotations

from typing import Any

from django.conf import settings
from django.db.models import QuerySet
from ninja import Field
from ninja.pagination import CursorPagination as NinjaCursorPagination
from ninja.pagination import PaginationBase

from tessera.core.api.schemas import CamelSchema


class PagePagination(PaginationBase):
    """`?page=2&pageSize=50` (or `page_size`): items, count, page, pageSize, pages."""

    class Input(CamelSchema):
        page: int = Field(1, ge=1, le=1_000_000)
        page_size: int | None = Field(None, ge=1)

    class Output(CamelSchema):
        items: list[Any]
        count: int
        page: int
        page_size: int
        pages: int

    items_attribute = "items"

    def paginate_queryset(
        self, queryset: QuerySet[Any], pagination: Input, **params: Any
    ) -> dict[str, Any]:
        page_size = min(
            pagination.page_size or settings.API_PAGE_SIZE_DEFAULT, settings.API_PAGE_SIZE_MAX
        )
        count = self._items_count(queryset)
        offset = (pagination.page - 1) * page_size
        return {
            "items": queryset[offset : offset + page_size],
            "count": count,
            "page": pagination.page,
            "page_size": page_size,
            "pages": max(1, -(-count // page_size)),
        }


class CursorPagination(NinjaCursorPagination):
    """Opaque `?cursor=` pagination for long, changing lists (newest first by default)."""

    def __init__(self, *, ordering: tuple[str, ...] = ("-created_at", "-pk"), **kwargs: Any):
        kwargs.setdefault("page_size", settings.API_PAGE_SIZE_DEFAULT)
        kwargs.setdefault("max_page_size", settings.API_PAGE_SIZE_MAX)
        super().__init__(ordering=ordering, **kwargs)

    class Input(CamelSchema):
        page_size: int | None = Field(None, ge=1)
        cursor: str | None = Field(None, max_length=512)
