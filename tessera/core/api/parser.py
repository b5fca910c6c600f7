"""JSON body parsing with orjson: the content type is checked and bad JSON is a clean 400."""

from __future__ import annotations

from typing import Any, cast

import orjson
from django.http import HttpRequest
from django.utils.datastructures import MultiValueDict
from django.utils.translation import gettext as _
from ninja.parser import Parser
from pydantic.alias_generators import to_camel

from tessera.core.errors import (
    InvalidInputError,
    MalformedRequestError,
    UnsupportedMediaTypeError,
)

_JSON_TYPES = ("application/json",)


def _nul_at(value: Any, path: str) -> str | None:
    """The path of the first string in `value` holding a NUL character, if any."""
    if isinstance(value, str):
        return path if "\x00" in value else None
    if isinstance(value, dict):
        for key, item in value.items():
            found = _nul_at(key, path) or _nul_at(item, f"{path}.{key}" if path else str(key))
            if found is not None:
                return found
    elif isinstance(value, list):
        for index, item in enumerate(value):
            found = _nul_at(item, f"{path}.{index}" if path else str(index))
            if found is not None:
                return found
    return None


def _refuse_nul(field: str) -> InvalidInputError:
    # PostgreSQL cannot store U+0000 in text, and no text here needs it: refused up front
    # rather than failing (a 500) where the value reaches the database.
    return InvalidInputError(
        _("Text may not contain the NUL character (U+0000)."),
        fields={field or "body": _("Remove the NUL character (U+0000).")},
    )


class OrjsonParser(Parser):
    def parse_body(self, request: HttpRequest) -> dict[str, Any]:
        content_type = request.content_type or ""
        body = request.body
        if not body:
            # An empty body with any content type reaches the schema, which reports the
            # missing fields as a 422.
            return {}
        if content_type not in _JSON_TYPES and not content_type.endswith("+json"):
            raise UnsupportedMediaTypeError
        try:
            parsed = orjson.loads(body)
        except orjson.JSONDecodeError as exc:
            raise MalformedRequestError(
                _("The request body is not valid JSON: %(detail)s") % {"detail": exc.args[0]}
            ) from exc
        if not isinstance(parsed, dict):
            raise MalformedRequestError(_("The request body must be a JSON object."))
        # A NUL can only arrive escaped (`\\u0000`): look further only when the bytes say so.
        if b"\\u0000" in body and (field := _nul_at(parsed, "")) is not None:
            raise _refuse_nul(field)
        return cast(dict[str, Any], parsed)

    def parse_querydict(
        self, data: MultiValueDict[str, Any], list_fields: list[str], request: HttpRequest
    ) -> dict[str, Any]:
        # CamelSchema fields are looked up by their camelCase alias; give a snake_case key
        # (`?page_size=`) its alias too, so both spellings are accepted as in JSON bodies.
        result: dict[str, Any] = {}
        for key in data:
            camel = to_camel(key)
            is_list = key in list_fields or camel in list_fields
            value = data.getlist(key) if is_list else data[key]
            if _nul_at(value, key) is not None or "\x00" in key:
                raise _refuse_nul(key)
            result[key] = value
            if camel != key and camel not in data:
                result[camel] = value
        return result
