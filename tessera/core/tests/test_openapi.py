"""The OpenAPI document is valid and describes the envelope on every operation."""

from __future__ import annotations

import pytest
from openapi_spec_validator import validate

from tessera.core.tests.conftest import body

pytestmark = [pytest.mark.urls("tessera.core.tests.urls"), pytest.mark.django_db]

ERROR_REF = {"$ref": "#/components/schemas/ErrorEnvelope"}
SCHEMAS = ["/api/openapi.json", "/api/_test/openapi.json"]


def operations(schema):
    for path, path_item in schema["paths"].items():
        for method, operation in path_item.items():
            yield f"{method.upper()} {path}", operation


@pytest.fixture(params=SCHEMAS)
def schema(request, api):
    response = api.get(request.param)
    assert response.status_code == 200, response.content[:500]
    return body(response)


def test_the_document_is_valid_openapi(schema):
    validate(schema)


def test_the_document_is_served_raw_not_in_an_envelope(schema):
    assert schema["openapi"].startswith("3.")
    assert "status" not in schema


def test_every_success_response_is_the_success_envelope(schema):
    checked = files = 0
    for name, operation in operations(schema):
        for status, response in operation["responses"].items():
            if not str(status).startswith("2") or str(status) == "204":
                continue
            if "application/json" not in response["content"]:
                # A file (a ticket's QR code): its bytes are the reply, with no envelope.
                assert all(not kind.endswith("json") for kind in response["content"]), name
                files += 1
                continue
            envelope = response["content"]["application/json"]["schema"]
            assert envelope["type"] == "object", name
            assert envelope["required"] == ["status", "data", "message", "timestamp"], name
            assert envelope["properties"]["status"] == {"type": "string", "enum": ["success"]}
            assert envelope["properties"]["timestamp"]["format"] == "date-time"
            assert "data" in envelope["properties"], name
            checked += 1
    assert checked >= 1
    assert files <= 2  # ticket QR as PNG and SVG


def test_every_operation_documents_its_errors_as_the_error_envelope(schema):
    assert schema["components"]["schemas"]["ErrorEnvelope"]["required"] == [
        "status",
        "error",
        "timestamp",
    ]
    for name, operation in operations(schema):
        responses = operation["responses"]
        for status in ("400", "401", "404", "413", "415", "422", "429", "500", "default"):
            assert responses[status]["content"]["application/json"]["schema"] == ERROR_REF, (
                f"{name} {status}"
            )
        assert responses["429"]["headers"]["Retry-After"]["schema"] == {"type": "integer"}


def test_the_test_api_documents_camel_case_envelopes_for_its_routes(api):
    schema = body(api.get("/api/_test/openapi.json"))

    created = schema["paths"]["/api/_test/profiles"]["post"]["responses"]["201"]
    data = created["content"]["application/json"]["schema"]["properties"]["data"]
    assert data == {"$ref": "#/components/schemas/ProfileOut"}
    profile = schema["components"]["schemas"]["ProfileOut"]
    assert set(profile["properties"]) == {"displayName", "favouriteColor", "homeAddress", "age"}
    page = schema["paths"]["/api/_test/users/page"]["get"]
    names = {parameter["name"] for parameter in page["parameters"]}
    assert names == {"page", "pageSize"}
