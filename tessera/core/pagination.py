"""Page and cursor pagination for list routes, camelCase and capped."""

from __future__ import annotations

from typing import Any

import pydantic
from django.conf import settings
from django.core.exceptions import ValidationError as DjangoValidationError
from django.db.models import QuerySet
from django.http import HttpRequest
from django.utils.translation import gettext as _
from ninja import Field
from ninja.errors import ValidationError as NinjaValidationError
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
        self, queryset: QuerySet[Any], pagination: Any, request: HttpRequest, **params: Any
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

    def paginate_queryset(
        self, queryset: QuerySet[Any], pagination: Any, request: HttpRequest, **params: Any
    ) -> Any:
        # A cursor is client input: one that does not decode (Ninja's error), carries a bad
        # offset (a bare pydantic error, which would be a 500) or a position the ordering
        # field cannot hold (Django's error) is a 422 on the `cursor` parameter.
        try:
            return super().paginate_queryset(queryset, pagination, request, **params)
        except (NinjaValidationError, pydantic.ValidationError, DjangoValidationError) as exc:
            raise NinjaValidationError(
                [{"loc": ("query", "cursor"), "msg": _("The cursor is not valid.")}]
            ) from exc
