"""Every failure becomes the error envelope with the right status, code and fields."""

from __future__ import annotations

import logging

import orjson
import pytest
from django.test import override_settings

from tessera.core.tests.conftest import body

pytestmark = [pytest.mark.urls("tessera.core.tests.urls"), pytest.mark.django_db]

VALID_PROFILE = {
    "displayName": "Ada",
    "favouriteColor": "red",
    "homeAddress": {"streetName": "1 Long Street", "postCode": "8001"},
    "age": 36,
}


def error_of(response):
    payload = body(response)
    assert set(payload) == {"status", "error", "timestamp"}
    assert payload["status"] == "error"
    assert payload["timestamp"].endswith("Z")
    assert payload["error"]["requestId"] == response["X-Request-ID"]
    return payload["error"]


# --- Requests the routing refuses -------------------------------------------------------------


def test_unknown_path_under_the_api_is_a_404_envelope(api):
    response = api.get("/api/no/such/route")

    assert response.status_code == 404
    assert response["Content-Type"] == "application/json; charset=utf-8"
    error = error_of(response)
    assert error["code"] == "not_found"
    assert error["message"] == "No API route matches this path."
    assert "fields" not in error


def test_unknown_path_outside_the_api_is_not_an_envelope(api):
    response = api.get("/no/such/page")

    assert response.status_code == 404
    assert not response["Content-Type"].startswith("application/json")


def test_wrong_method_is_a_405_envelope_with_allow(api):
    response = api.put("/api/ping", {})

    assert response.status_code == 405
    assert response["Allow"] == "GET, HEAD"
    error = error_of(response)
    assert error["code"] == "method_not_allowed"
    assert error["message"] == "This method is not allowed on this path."


# --- Bodies the platform refuses before the schema sees them -------------------------------


@override_settings(API_MAX_BODY_BYTES=64)
def test_a_body_over_the_limit_is_refused_before_it_is_parsed(api):
    oversized_and_broken = b"{" + b"x" * 100

    response = api.post(
        "/api/_test/profiles", oversized_and_broken, content_type="application/json"
    )

    assert response.status_code == 413
    error = error_of(response)
    assert error["code"] == "payload_too_large"
    assert error["message"] == "The request body is larger than 64 bytes."


@override_settings(API_MAX_BODY_BYTES=64)
def test_a_body_at_the_limit_reaches_the_schema(api):
    at_limit = orjson.dumps({"displayName": "x" * 41})
    assert len(at_limit) == 59
    at_limit = at_limit[:-1] + b" " * 5 + b"}"
    assert len(at_limit) == 64

    response = api.post("/api/_test/profiles", at_limit, content_type="application/json")

    assert response.status_code == 422


def test_a_content_length_that_is_not_a_number_is_a_400(api):
    response = api.post("/api/_test/profiles", VALID_PROFILE, CONTENT_LENGTH="twelve")

    assert response.status_code == 400
    assert error_of(response)["code"] == "bad_request"


@pytest.mark.parametrize(
    "content_type", ["text/plain", "application/x-www-form-urlencoded", "application/xml"]
)
def test_a_body_that_is_not_json_is_a_415(api, content_type):
    response = api.post("/api/_test/profiles", "displayName=Ada", content_type=content_type)

    assert response.status_code == 415
    error = error_of(response)
    assert error["code"] == "unsupported_media_type"
    assert error["message"] == "The request body must be JSON (Content-Type: application/json)."


def test_a_json_suffix_media_type_is_accepted(api):
    response = api.post(
        "/api/_test/profiles", orjson.dumps(VALID_PROFILE), content_type="application/ld+json"
    )

    assert response.status_code == 201


def test_broken_json_is_a_400_malformed_json(api):
    response = api.post("/api/_test/profiles", b'{"displayName": ', content_type="application/json")

    assert response.status_code == 400
    error = error_of(response)
    assert error["code"] == "malformed_json"
    assert error["message"].startswith("The request body is not valid JSON: ")


@pytest.mark.parametrize("raw", [b"[1, 2]", b'"text"', b"42", b"null"])
def test_a_json_body_that_is_not_an_object_is_a_400_malformed_json(api, raw):
    response = api.post("/api/_test/profiles", raw, content_type="application/json")

    assert response.status_code == 400
    error = error_of(response)
    assert error["code"] == "malformed_json"
    assert error["message"] == "The request body must be a JSON object."


def test_a_nul_character_anywhere_in_the_body_is_a_422_naming_the_field(api):
    sent = {**VALID_PROFILE, "homeAddress": {"streetName": "1 Long\u0000Street", "postCode": "1"}}

    response = api.post("/api/_test/profiles", orjson.dumps(sent), content_type="application/json")

    assert response.status_code == 422
    error = error_of(response)
    assert error["code"] == "validation_error"
    assert error["message"] == "Text may not contain the NUL character (U+0000)."
    assert set(error["fields"]) == {"homeAddress.streetName"}


def test_an_escaped_backslash_before_u0000_is_text_not_a_nul(api):
    # JSON `"\\u0000"` is the six characters `\u0000`, which any text may hold.
    sent = {**VALID_PROFILE, "displayName": "Ada \\u0000"}

    response = api.post("/api/_test/profiles", orjson.dumps(sent), content_type="application/json")

    assert response.status_code == 201, body(response)


def test_a_nul_character_in_a_query_parameter_is_a_422(api):
    response = api.get("/api/_test/users/page?page=1%00")

    assert response.status_code == 422
    assert set(error_of(response)["fields"]) == {"page"}


# --- Validation -------------------------------------------------------------------------------


def test_missing_fields_are_a_422_naming_each_field_in_camel_case(api):
    response = api.post("/api/_test/profiles", {"homeAddress": {"streetName": "1 Long St"}})

    assert response.status_code == 422
    error = error_of(response)
    assert error["code"] == "validation_error"
    assert error["message"] == "The request contains invalid data."
    assert error["fields"] == {
        "displayName": "Field required",
        "favouriteColor": "Field required",
        "homeAddress.postCode": "Field required",
        "age": "Field required",
    }


def test_invalid_values_are_a_422_with_the_reason_per_field(api):
    sent = {**VALID_PROFILE, "age": -1, "homeAddress": {"streetName": "x", "postCode": "12"}}

    response = api.post("/api/_test/profiles", sent)

    assert response.status_code == 422
    error = error_of(response)
    assert error["code"] == "validation_error"
    assert error["fields"] == {
        "age": "Input should be greater than or equal to 0",
        "homeAddress.postCode": "String should have at least 4 characters",
    }


def test_an_unknown_enum_value_in_the_body_is_a_422_on_that_field(api):
    response = api.post("/api/_test/profiles", {**VALID_PROFILE, "favouriteColor": "blue"})

    assert response.status_code == 422
    error = error_of(response)
    assert error["code"] == "validation_error"
    assert error["fields"] == {"favouriteColor": "Input should be 'red' or 'green'"}


def test_an_unknown_enum_value_in_the_query_is_a_422_invalid_query_parameter(api):
    response = api.get("/api/_test/colors", {"color": "blue"})

    assert response.status_code == 422
    error = error_of(response)
    assert error["code"] == "invalid_query_parameter"
    assert error["fields"] == {"color": "Input should be 'red' or 'green'"}


def test_a_missing_query_parameter_is_a_422_invalid_query_parameter(api):
    response = api.get("/api/_test/colors")

    assert response.status_code == 422
    error = error_of(response)
    assert error["code"] == "invalid_query_parameter"
    assert error["fields"] == {"color": "Field required"}


def test_a_bad_uuid_in_the_path_is_a_422_invalid_path_parameter(api):
    response = api.get("/api/_test/items/not-a-uuid")

    assert response.status_code == 422
    error = error_of(response)
    assert error["code"] == "invalid_path_parameter"
    assert list(error["fields"]) == ["itemId"]
    assert error["fields"]["itemId"].startswith("Input should be a valid UUID")


# --- Authentication ---------------------------------------------------------------------------


def test_no_token_is_a_401(api):
    response = api.get("/api/_test/whoami")

    assert response.status_code == 401
    error = error_of(response)
    assert error["code"] == "not_authenticated"
    assert error["message"] == "Authentication credentials were missing or invalid."


@pytest.mark.parametrize(
    "header", ["Bearer not-a-jwt", "Bearer ", "Basic YWRhOnB3", "bearer", "Token abc"]
)
def test_a_bad_token_is_a_401(api, user, header):
    response = api.get("/api/_test/whoami", HTTP_AUTHORIZATION=header)

    assert response.status_code == 401
    assert error_of(response)["code"] == "not_authenticated"


def test_a_token_for_a_deactivated_user_is_a_401(user_api, user):
    user.is_active = False
    user.save(update_fields=["is_active"])

    response = user_api.get("/api/_test/whoami")

    assert response.status_code == 401


def test_a_valid_token_reaches_the_route(user_api, user):
    response = user_api.get("/api/_test/whoami")

    assert response.status_code == 200
    assert body(response)["data"] == {"userId": str(user.pk)}


# --- Application and Django errors raised by a route --------------------------------------------


@pytest.mark.parametrize(
    ("kind", "status", "code", "message"),
    [
        (
            "unauthenticated",
            401,
            "not_authenticated",
            "Authentication credentials were missing or invalid.",
        ),
        (
            "forbidden",
            403,
            "permission_denied",
            "You do not have permission to perform this action.",
        ),
        ("missing", 404, "not_found", "The resource was not found."),
        ("conflict", 409, "test_route_full", "The event is already full."),
        ("does-not-exist", 404, "not_found", "The resource was not found."),
    ],
)
def test_application_errors_map_to_their_status_and_code(api, kind, status, code, message):
    response = api.get(f"/api/_test/errors/{kind}")

    assert response.status_code == status
    error = error_of(response)
    assert error == {"code": code, "message": message, "requestId": response["X-Request-ID"]}


def test_invalid_input_error_carries_its_fields(api):
    response = api.get("/api/_test/errors/invalid")

    assert response.status_code == 422
    error = error_of(response)
    assert error["code"] == "validation_error"
    assert error["message"] == "The request contains invalid data."
    assert error["fields"] == {"startsAt": "Must be in the future.", "title": "Too long."}


def test_rate_limited_error_is_a_429_with_retry_after(api):
    response = api.get("/api/_test/errors/rate-limited")

    assert response.status_code == 429
    assert response["Retry-After"] == "17"
    error = error_of(response)
    assert error["code"] == "rate_limited"
    assert error["message"] == "Too many requests. Try again later."


def test_a_django_validation_error_with_fields_is_a_422(api):
    response = api.get("/api/_test/errors/django-validation")

    assert response.status_code == 422
    error = error_of(response)
    assert error["code"] == "validation_error"
    assert error["fields"] == {"email": "Enter a valid email address."}


def test_a_django_validation_error_without_fields_is_a_422_with_its_message(api):
    response = api.get("/api/_test/errors/django-validation-bare")

    assert response.status_code == 422
    error = error_of(response)
    assert error["code"] == "validation_error"
    assert error["message"] == "The capsule is already sealed."
    assert "fields" not in error


def test_an_unexpected_exception_is_a_500_with_the_request_id_and_no_details(api, caplog):
    with caplog.at_level(logging.ERROR, logger="tessera.api"):
        response = api.get("/api/_test/errors/crash", HTTP_X_REQUEST_ID="support-ticket-7")

    assert response.status_code == 500
    assert response["X-Request-ID"] == "support-ticket-7"
    error = error_of(response)
    assert error == {
        "code": "internal_error",
        "message": "Something went wrong on our side. Quote the request id if you contact us.",
        "requestId": "support-ticket-7",
    }
    assert b"hunter2" not in response.content
    assert b"Traceback" not in response.content
    logged = [record for record in caplog.records if record.name == "tessera.api"]
    assert len(logged) == 1
    event = logged[0].msg  # structlog hands the formatter its event dict
    assert event["event"] == "unhandled_api_error"
    assert event["request_id"] == "support-ticket-7"
    assert isinstance(event["exc_info"], RuntimeError)
    assert str(event["exc_info"]) == "database password is hunter2"
