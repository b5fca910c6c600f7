"""Base schemas: camelCase out, camelCase or snake_case in.

`CamelSchema` is for replies. Every request body schema derives from `InputSchema`, which
refuses fields it does not know (a 422 naming them): a misspelt or renamed field must not be
dropped in silence (`avatar` for `avatarFileId` used to answer 200 and change nothing).
"""

from __future__ import annotations

from typing import Any

from ninja import Schema
from pydantic import ConfigDict
from pydantic.alias_generators import to_camel


class CamelSchema(Schema):
    model_config = ConfigDict(alias_generator=to_camel, populate_by_name=True)


class InputSchema(CamelSchema):
    """A request body: camelCase or snake_case in, unknown fields refused."""

    model_config = ConfigDict(alias_generator=to_camel, populate_by_name=True, extra="forbid")


class ErrorBody(CamelSchema):
    code: str
    message: str
    fields: dict[str, Any] | None = None
    request_id: str | None = None


class ErrorEnvelope(CamelSchema):
    status: str = "error"
    error: ErrorBody
    timestamp: str


class MessageOut(CamelSchema):
    detail: str
