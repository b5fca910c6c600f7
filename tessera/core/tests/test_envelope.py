"""The success envelope, camelCase out and in, and the request id."""

from __future__ import annotations

import re
from datetime import UTC, datetime

import pytest

from tessera.core import envelope
from tessera.core.tests.conftest import body

pytestmark = [pytest.mark.urls("tessera.core.tests.urls"), pytest.mark.django_db]

TIMESTAMP = re.compile(r"^\d{4}-\d{2}-\d{2}T\d{2}:\d{2}:\d{2}\.\d{3}Z$")
GENERATED_ID = re.compile(r"^[0-9a-f]{32}$")
PROFILE_OUT = {
    "displayName": "Ada",
    "favouriteColor": "green",
    "homeAddress": {"streetName": "1 Long Street", "postCode": "8001"},
    "age": 36,
}


def test_success_envelope_has_status_data_message_and_a_utc_timestamp(api):
    before = datetime.now(tz=UTC)
    response = api.get("/api/ping")
    after = datetime.now(tz=UTC)

    assert response.status_code == 200
    assert response["Content-Type"] == "application/json; charset=utf-8"
    payload = body(response)
    assert set(payload) == {"status", "data", "message", "timestamp"}
    assert payload["status"] == "success"
    assert payload["data"] == {"pong": True, "version": "0.1.0"}
    assert payload["message"] == "OK"
    assert TIMESTAMP.match(payload["timestamp"])
    sent_at = datetime.fromisoformat(payload["timestamp"])
    assert sent_at.tzinfo == UTC
    # The timestamp is cut to milliseconds, so compare against `before` cut the same way.
    assert before.replace(microsecond=before.microsecond // 1000 * 1000) <= sent_at <= after


def test_created_reply_keeps_its_status_and_the_route_message(api):
    response = api.post("/api/_test/profiles", PROFILE_OUT)

    assert response.status_code == 201
    payload = body(response)
    assert payload["status"] == "success"
    assert payload["message"] == "Profile created."
    assert payload["data"] == PROFILE_OUT


@pytest.mark.parametrize(
    "sent",
    [
        pytest.param(PROFILE_OUT, id="camelCase"),
        pytest.param(
            {
                "display_name": "Ada",
                "favourite_color": "green",
                "home_address": {"street_name": "1 Long Street", "post_code": "8001"},
                "age": 36,
            },
            id="snake_case",
        ),
        pytest.param(
            {
                "displayName": "Ada",
                "favourite_color": "green",
                "homeAddress": {"street_name": "1 Long Street", "postCode": "8001"},
                "age": 36,
            },
            id="mixed",
        ),
    ],
)
def test_camel_and_snake_case_are_both_accepted_and_camel_case_comes_out(api, sent):
    response = api.post("/api/_test/profiles", sent)

    assert response.status_code == 201
    assert body(response)["data"] == PROFILE_OUT


def test_path_and_query_values_come_back_under_camel_case_keys(api):
    item = api.get("/api/_test/items/0190c6c5-6b3e-7d1a-9f00-2b7c4d1e8a11")
    color = api.get("/api/_test/colors", {"color": "red"})

    assert body(item)["data"] == {"itemId": "0190c6c5-6b3e-7d1a-9f00-2b7c4d1e8a11"}
    assert body(color)["data"] == {"chosenColor": "red"}


def test_a_valid_request_id_is_echoed_in_the_header_and_in_errors(api):
    request_id = "client-42.retry:1_A"

    ok = api.get("/api/ping", HTTP_X_REQUEST_ID=request_id)
    failed = api.get("/api/_test/errors/missing", HTTP_X_REQUEST_ID=request_id)

    assert ok["X-Request-ID"] == request_id
    assert failed["X-Request-ID"] == request_id
    assert body(failed)["error"]["requestId"] == request_id


def test_a_request_id_is_generated_when_absent(api):
    first = api.get("/api/ping")
    second = api.get("/api/ping")

    assert GENERATED_ID.match(first["X-Request-ID"])
    assert GENERATED_ID.match(second["X-Request-ID"])
    assert first["X-Request-ID"] != second["X-Request-ID"]


@pytest.mark.parametrize(
    "unsafe",
    [
        pytest.param("a" * 129, id="too-long"),
        pytest.param("two words", id="space"),
        pytest.param("id\nInjected: yes", id="newline"),
        pytest.param("<script>", id="markup"),
        pytest.param("", id="empty"),
    ],
)
def test_an_invalid_request_id_is_replaced_by_a_generated_one(api, unsafe):
    response = api.get("/api/_test/errors/missing", HTTP_X_REQUEST_ID=unsafe)

    assert GENERATED_ID.match(response["X-Request-ID"])
    assert body(response)["error"]["requestId"] == response["X-Request-ID"]


def test_the_longest_valid_request_id_is_kept(api):
    request_id = "b" * 128

    assert api.get("/api/ping", HTTP_X_REQUEST_ID=request_id)["X-Request-ID"] == request_id


def test_pages_outside_the_api_also_carry_a_request_id(api):
    response = api.get("/health/", HTTP_X_REQUEST_ID="probe-1")

    assert response["X-Request-ID"] == "probe-1"


@pytest.mark.parametrize(
    "instants",
    [
        # across a second boundary, back again, and fractions that float arithmetic blurs
        [1764693428.9995, 1764693429.0004, 1764693428.5, 1764693428.123, 1764693428.9999996],
        [0.0, 59.999, 60.0, 86399.9994, 86400.0],
    ],
)
def test_the_envelope_timestamp_is_the_instant_cut_to_the_millisecond(monkeypatch, instants):
    for instant in instants:
        monkeypatch.setattr(envelope, "_clock", lambda instant=instant: instant)
        expected = datetime.fromtimestamp(instant, tz=UTC)
        assert envelope.utc_timestamp() == (
            expected.strftime("%Y-%m-%dT%H:%M:%S.") + f"{expected.microsecond // 1000:03d}Z"
        )
