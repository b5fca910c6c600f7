"""`TesseraAPI`: a NinjaAPI whose every reply, and whose schema, uses the envelope."""

from __future__ import annotations

from copy import deepcopy
from typing import Any

from django.http import HttpRequest, HttpResponse
from ninja import NinjaAPI

from tessera.core.api import handlers
from tessera.core.api.parser import OrjsonParser
from tessera.core.api.renderer import OrjsonRenderer
from tessera.core.envelope import success_payload

ERROR_ENVELOPE_SCHEMA: dict[str, Any] = {
    "type": "object",
    "title": "ErrorEnvelope",
    "required": ["status", "error", "timestamp"],
    "properties": {
        "status": {"type": "string", "enum": ["error"]},
        "error": {
            "type": "object",
            "required": ["code", "message"],
            "properties": {
                "code": {"type": "string"},
                "message": {"type": "string"},
                "fields": {"type": "object", "additionalProperties": {"type": "string"}},
                "requestId": {"type": "string"},
            },
        },
        "timestamp": {"type": "string", "format": "date-time"},
    },
}

_ERROR_DESCRIPTIONS = {
    "400": "Malformed request",
    "401": "Not authenticated",
    "404": "Not found",
    "413": "Request body too large",
    "415": "Unsupported media type",
    "422": "Invalid input",
    "429": "Rate limited",
    "500": "Internal error",
    "default": "Error",
}


def _wrap_success(schema: dict[str, Any] | None) -> dict[str, Any]:
    return {
        "type": "object",
        "required": ["status", "data", "message", "timestamp"],
        "properties": {
            "status": {"type": "string", "enum": ["success"]},
            "data": schema if schema is not None else {},
            "message": {"type": "string"},
            "timestamp": {"type": "string", "format": "date-time"},
        },
    }


class TesseraAPI(NinjaAPI):
    def __init__(self, **kwargs: Any) -> None:
        kwargs.setdefault("renderer", OrjsonRenderer())
        kwargs.setdefault("parser", OrjsonParser())
        super().__init__(**kwargs)
        handlers.install(self)

    def create_response(
        self,
        request: HttpRequest,
        data: Any,
        *,
        status: int | None = None,
        temporal_response: HttpResponse | None = None,
    ) -> HttpResponse:
        effective_status = temporal_response.status_code if temporal_response else status
        if effective_status is not None and effective_status < 400 and effective_status != 204:
            data = success_payload(data, getattr(request, "api_message", "OK"))
        response = super().create_response(
            request, data, status=status, temporal_response=temporal_response
        )
        response.tessera_envelope = True  # type: ignore[attr-defined]
        return response

    def get_openapi_schema(self, **kwargs: Any) -> Any:
        schema = super().get_openapi_schema(**kwargs)
        components = schema.setdefault("components", {}).setdefault("schemas", {})
        components["ErrorEnvelope"] = ERROR_ENVELOPE_SCHEMA
        error_ref = {"$ref": "#/components/schemas/ErrorEnvelope"}
        for path_item in schema.get("paths", {}).values():
            for operation in path_item.values():
                if not isinstance(operation, dict) or "responses" not in operation:
                    continue
                responses = operation["responses"]
                for status_code, response in list(responses.items()):
                    if not str(status_code).startswith("2") or str(status_code) == "204":
                        continue
                    content = response.setdefault("content", {})
                    media = content.setdefault("application/json", {})
                    media["schema"] = _wrap_success(deepcopy(media.get("schema")))
                for status_code, description in _ERROR_DESCRIPTIONS.items():
                    responses.setdefault(
                        status_code,
                        {
                            "description": description,
                            "content": {"application/json": {"schema": error_ref}},
                        },
                    )
                    if str(status_code) == "429":
                        responses[status_code].setdefault(
                            "headers",
                            {"Retry-After": {"schema": {"type": "integer"}}},
                        )
        return schema
