"""JSON body parsing with orjson: the content type is checked and bad JSON is a clean 400."""

from __future__ import annotations

from typing import Any, cast

import orjson
from django.http import HttpRequest
from django.utils.datastructures import MultiValueDict
from django.utils.translation import gettext as _
from ninja.parser import Parser
from pydantic.alias_generators import to_camel

from tessera.core.errors import MalformedRequestError, UnsupportedMediaTypeError

_JSON_TYPES = ("application/json",)


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
            result[key] = value
            if camel != key and camel not in data:
                result[camel] = value
        return result
