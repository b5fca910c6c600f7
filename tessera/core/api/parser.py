"""JSON body parsing with orjson: the content type is checked and bad JSON is a clean 400."""

from __future__ import annotations

from typing import Any, cast

import orjson
from django.http import HttpRequest
from ninja.parser import Parser

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
                f"The request body is not valid JSON: {exc.args[0]}"
            ) from exc
        if not isinstance(parsed, dict):
            raise MalformedRequestError("The request body must be a JSON object.")
        return cast(dict[str, Any], parsed)
