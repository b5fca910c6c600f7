"""`TesseraAPI`: a NinjaAPI whose every reply, and whose schema, uses the envelope."""

from __future__ import annotations

import re
from collections.abc import Iterable
from copy import deepcopy
from typing import Any

from django.http import HttpRequest, HttpResponse
from ninja import NinjaAPI

from tessera.core.api import handlers
from tessera.core.api.bodies import refuse_body_when_none_is_taken
from tessera.core.api.parser import OrjsonParser
from tessera.core.api.renderer import OrjsonRenderer
from tessera.core.envelope import success_payload
from tessera.core.errors import all_error_codes

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


def _response(operation: dict[str, Any] | None, status: int) -> dict[str, Any] | None:
    # Ninja keys responses by number; the error responses added here by text.
    if not operation:
        return None
    responses = operation.get("responses", {})
    found = responses.get(status, responses.get(str(status)))
    return found if isinstance(found, dict) else None


def _data_ref(response: dict[str, Any] | None) -> str | None:
    """The component a (wrapped) success reply holds as `data`, if it is one."""
    if not response:
        return None
    schema = response.get("content", {}).get("application/json", {}).get("schema", {})
    ref = schema.get("properties", {}).get("data", {}).get("$ref")
    return ref.rsplit("/", 1)[1] if isinstance(ref, str) else None


def _ids_in(component: str, components: dict[str, Any], readers: Iterable[str]) -> dict[str, str]:
    """Where a reply with `data` of this component holds ids: `{component: pointer}` for the
    component itself, for each read component it extends (a deposit is a wallet transaction
    with its checkout), and for each object it holds directly (a direct upload's `file`)."""
    found: dict[str, str] = {}
    properties = components.get(component, {}).get("properties", {})
    if "id" in properties:
        found[component] = "/data/id"
        for reader in readers:
            held = set(components.get(reader, {}).get("properties", {}))
            if held and held <= set(properties):
                found.setdefault(reader, "/data/id")
    for name, held in properties.items():
        ref = held.get("$ref") if isinstance(held, dict) else None
        if ref:
            nested = ref.rsplit("/", 1)[1]
            if "id" in components.get(nested, {}).get("properties", {}):
                found.setdefault(nested, f"/data/{name}/id")
    return found


def _path_parameters(path: str) -> list[str]:
    return re.findall(r"{(\w+)}", path)


def _pointer_to(parameter: str, component: str, components: dict[str, Any]) -> str | None:
    """Where a reply of this component holds the value of an item path's last parameter:
    `helper` for `{user_id}` is `/data/user/id`, anything with an `id` is `/data/id`."""
    properties = components.get(component, {}).get("properties", {})
    holder = properties.get(parameter.removesuffix("_id"))
    ref = holder.get("$ref") if isinstance(holder, dict) else None
    if ref and "id" in components.get(ref.rsplit("/", 1)[1], {}).get("properties", {}):
        return f"/data/{parameter.removesuffix('_id')}/id"
    return "/data/id" if "id" in properties else None


def add_links(schema: dict[str, Any]) -> None:
    """OpenAPI links from each creating operation (a POST answering 201) to the operations on
    what it created: every operation on the one path of the resource read back by a GET whose
    last path parameter names it and whose reply holds the same component (`POST /api/capsules`
    → `GET /api/capsules/{capsule_id}`, its PATCH, DELETE, seal…). The read's other path
    parameters come from the creating request's own path (`POST /api/events/{event_id}/helpers`
    → `GET /api/events/{event_id}/helpers/{user_id}`). Clients and schemathesis' stateful runs
    follow them (`$response.body#/data/id`, `$request.path.event_id`)."""
    paths = schema.get("paths", {})
    components = schema.get("components", {}).get("schemas", {})
    readers = _readers(paths)
    for post_path, item in paths.items():
        created = _response(item.get("post"), 201)
        component = _data_ref(created)
        if created is None or component is None:
            continue
        found = _ids_in(component, components, readers)
        if component in readers:
            pointer = _pointer_to(readers[component][1][-1], component, components)
            if pointer:
                found.setdefault(component, pointer)
        links: dict[str, Any] = {}
        for held, pointer in found.items():
            if held in readers and set(readers[held][1][:-1]) <= set(_path_parameters(post_path)):
                links.update(_links_to(paths, *readers[held], pointer))
        if links:
            created["links"] = links


def _readers(paths: dict[str, Any]) -> dict[str, tuple[str, list[str]]]:
    """component -> (the path of a GET reading one of it, that path's parameters)."""
    readers: dict[str, tuple[str, list[str]]] = {}
    for path, item in paths.items():
        parameters = _path_parameters(path)
        component = _data_ref(_response(item.get("get"), 200))
        if component and parameters and path.endswith("{" + parameters[-1] + "}"):
            held = readers.get(component)
            if held is None or len(parameters) < len(held[1]):
                readers[component] = (path, parameters)
    return readers


def _links_to(
    paths: dict[str, Any], item_path: str, parameters: list[str], pointer: str
) -> dict[str, Any]:
    values = {name: f"$request.path.{name}" for name in parameters[:-1]}
    values[parameters[-1]] = f"$response.body#{pointer}"
    links: dict[str, Any] = {}
    for path, target in paths.items():
        if path != item_path and not path.startswith(item_path + "/"):
            continue
        if not set(_path_parameters(path)) <= set(values):
            continue  # needs an id this reply does not give (another nested object)
        for operation in target.values():
            if isinstance(operation, dict) and "operationId" in operation:
                links[operation["operationId"]] = {
                    "operationId": operation["operationId"],
                    "parameters": dict(values),
                }
    return links


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
        # Every route: one that takes no body refuses one (tessera.core.api.bodies).
        self.add_decorator(refuse_body_when_none_is_taken, mode="operation")

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
        envelope = deepcopy(ERROR_ENVELOPE_SCHEMA)
        # Every code any module can answer with, so that a client can switch over them.
        envelope["properties"]["error"]["properties"]["code"]["enum"] = all_error_codes()
        components["ErrorEnvelope"] = envelope
        error_ref = {"$ref": "#/components/schemas/ErrorEnvelope"}
        for path_item in schema.get("paths", {}).values():
            for operation in path_item.values():
                if not isinstance(operation, dict) or "responses" not in operation:
                    continue
                # A route's `openapi_extra` is shared by every schema built: work on a copy.
                responses = operation["responses"] = deepcopy(operation["responses"])
                for status_code, response in list(responses.items()):
                    if not str(status_code).startswith("2") or str(status_code) == "204":
                        continue
                    content = response.setdefault("content", {})
                    if content and "application/json" not in content:
                        continue  # a file (a QR code's PNG): no envelope around it
                    media = content.setdefault("application/json", {})
                    media["schema"] = _wrap_success(media.get("schema"))
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
        add_links(schema)
        return schema
