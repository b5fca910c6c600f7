"""Base schemas: camelCase out, camelCase or snake_case in."""

from __future__ import annotations

from typing import Any

from ninja import Schema
from pydantic import ConfigDict
from pydantic.alias_generators import to_camel


class CamelSchema(Schema):
    model_config = ConfigDict(alias_generator=to_camel, populate_by_name=True)


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
