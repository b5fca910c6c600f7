"""Page and cursor pagination for list routes, camelCase and capped.

Every cursor the API hands out is signed (`cursor_sign`, Django's signing with a salt per
kind of cursor): a client can only pass back a cursor it was given, unchanged. A forged or
altered one is a 422 `invalid_cursor`, before its content is read.
"""

from __future__ import annotations

from typing import Any

import pydantic
from django.conf import settings
from django.core import signing
from django.core.exceptions import ValidationError as DjangoValidationError
from django.db.models import QuerySet
from django.http import HttpRequest
from ninja import Field
from ninja.errors import ValidationError as NinjaValidationError
from ninja.pagination import CursorPagination as NinjaCursorPagination
from ninja.pagination import PaginationBase

from tessera.core.api.schemas import CamelSchema
from tessera.core.errors import InvalidCursorError

# "." is not in the URL-safe base64 alphabet and needs no escaping in a query string.
_SEPARATOR = "."


def cursor_sign(value: str, *, salt: str) -> str:
    """`value` (URL-safe text) with its signature: `<value>.<43 characters>`."""
    return signing.Signer(salt=salt, sep=_SEPARATOR).sign(value)


def cursor_unsign(cursor: str, *, salt: str) -> str:
    """The value `cursor_sign` signed with `salt`; `InvalidCursorError` for anything else."""
    try:
        return signing.Signer(salt=salt, sep=_SEPARATOR).unsign(cursor)
    except signing.BadSignature:
        raise InvalidCursorError from None


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


_CURSOR_SALT = "tessera.core.pagination.cursor"


class CursorPagination(NinjaCursorPagination):
    """Opaque `?cursor=` pagination for long, changing lists (newest first by default)."""

    class Cursor(NinjaCursorPagination.Cursor):
        """Ninja's cursor (position, direction, offset), signed."""

        @classmethod
        def from_encoded_param(
            cls, encoded_param: str | None, context: Any = None
        ) -> NinjaCursorPagination.Cursor:
            if not encoded_param:
                return cls()
            value = cursor_unsign(encoded_param, salt=_CURSOR_SALT)
            return super().from_encoded_param(value, context)

        def encode_as_param(self) -> str:
            return cursor_sign(super().encode_as_param(), salt=_CURSOR_SALT)

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
        # Only a cursor signed here gets this far; should one still not decode (Ninja's
        # error), carry a bad offset (a bare pydantic error, which would be a 500) or a
        # position the ordering field cannot hold (Django's error), it is refused the same.
        try:
            return super().paginate_queryset(queryset, pagination, request, **params)
        except (NinjaValidationError, pydantic.ValidationError, DjangoValidationError) as exc:
            raise InvalidCursorError from exc
