"""`Idempotency-Key` on POST routes: replay, reuse, in-flight, scope, key format, 5xx."""

from __future__ import annotations

from datetime import timedelta

import pytest
from django.contrib.auth import get_user_model
from django.utils import timezone

from tessera.core.models import IdempotencyRecord
from tessera.core.tests.conftest import body

pytestmark = [pytest.mark.urls("tessera.core.tests.urls"), pytest.mark.django_db]

KEY = "order-2f1c9a7e"


def rows(note_text):
    return get_user_model().objects.filter(name=note_text).count()


def post_note(client, note_text, *, key=KEY, path="/api/_test/notes", **extra):
    if key is not None:
        extra["HTTP_IDEMPOTENCY_KEY"] = key
    return client.post(path, {"noteText": note_text}, **extra)


def test_a_replay_returns_the_first_reply_unchanged_and_runs_once(api):
    first = post_note(api, "hello")
    replay = post_note(api, "hello")

    assert first.status_code == 201
    assert "Idempotent-Replayed" not in first
    assert replay.status_code == 201
    assert replay["Idempotent-Replayed"] == "true"
    assert replay["Content-Type"] == first["Content-Type"]
    assert replay.content == first.content
    assert body(replay)["data"]["noteText"] == "hello"
    assert rows("hello") == 1


def test_without_a_key_every_post_runs(api):
    post_note(api, "twice", key=None)
    post_note(api, "twice", key=None)

    assert rows("twice") == 2
    assert IdempotencyRecord.objects.count() == 0


def test_the_same_key_with_another_body_is_a_422(api):
    post_note(api, "first body")

    response = post_note(api, "second body")

    assert response.status_code == 422
    error = body(response)["error"]
    assert error["code"] == "idempotency_key_reused"
    assert error["message"] == (
        "This Idempotency-Key was already used with a different request body."
    )
    assert rows("first body") == 1
    assert rows("second body") == 0


def test_a_duplicate_while_the_first_is_still_running_is_a_409(api):
    post_note(api, "slow")
    # Put the stored record back in the state it has while the first request runs.
    IdempotencyRecord.objects.filter(key=KEY).update(
        state=IdempotencyRecord.State.PROCESSING, response_status=None, response_body=None
    )

    response = post_note(api, "slow")

    assert response.status_code == 409
    error = body(response)["error"]
    assert error["code"] == "idempotency_request_in_flight"
    assert error["message"] == "A request with this Idempotency-Key is still being processed."
    assert rows("slow") == 1


def test_different_users_with_the_same_key_are_independent(user_api, other_api):
    mine = post_note(user_api, "shared", path="/api/_test/notes/mine")
    theirs = post_note(other_api, "shared", path="/api/_test/notes/mine")
    mine_again = post_note(user_api, "shared", path="/api/_test/notes/mine")

    assert mine.status_code == theirs.status_code == 201
    assert "Idempotent-Replayed" not in theirs
    assert body(mine)["data"]["userId"] != body(theirs)["data"]["userId"]
    assert mine_again["Idempotent-Replayed"] == "true"
    assert mine_again.content == mine.content
    assert rows("shared") == 2


def test_anonymous_callers_are_told_apart_by_address(api):
    post_note(api, "anon", REMOTE_ADDR="192.0.2.1")
    other = post_note(api, "anon", REMOTE_ADDR="192.0.2.2")

    assert "Idempotent-Replayed" not in other
    assert rows("anon") == 2


def test_the_same_key_on_another_route_is_independent(user_api):
    post_note(user_api, "routes", path="/api/_test/notes")
    other_route = post_note(user_api, "routes", path="/api/_test/notes/mine")

    assert other_route.status_code == 201
    assert "Idempotent-Replayed" not in other_route
    assert rows("routes") == 2


@pytest.mark.parametrize(
    "key",
    [
        pytest.param("", id="empty"),
        pytest.param("has space", id="space"),
        pytest.param("k" * 256, id="too-long"),
        pytest.param("ключ", id="non-ascii"),
    ],
)
def test_an_invalid_key_is_a_422_naming_the_header_and_nothing_runs(api, key):
    response = post_note(api, "bad key", key=key)

    assert response.status_code == 422
    error = body(response)["error"]
    assert error["code"] == "invalid_header"
    assert list(error["fields"]) == ["Idempotency-Key"]
    assert rows("bad key") == 0
    assert IdempotencyRecord.objects.count() == 0


def test_the_longest_valid_key_is_accepted(api):
    response = post_note(api, "long key", key="k" * 255)

    assert response.status_code == 201


def test_a_5xx_is_not_stored_so_the_client_may_retry(api):
    failed = post_note(api, "flaky", path="/api/_test/notes/flaky")
    assert IdempotencyRecord.objects.count() == 0

    retried = post_note(api, "flaky", path="/api/_test/notes/flaky")
    replayed = post_note(api, "flaky", path="/api/_test/notes/flaky")

    assert failed.status_code == 500
    assert retried.status_code == 201
    assert "Idempotent-Replayed" not in retried
    assert replayed["Idempotent-Replayed"] == "true"
    assert rows("flaky") == 2  # the failed attempt's row and the retry's, no third


def test_a_request_the_schema_refuses_claims_no_key(api):
    refused = api.post("/api/_test/notes", {"wrong": 1}, HTTP_IDEMPOTENCY_KEY=KEY)
    accepted = post_note(api, "after refusal")

    assert refused.status_code == 422
    assert accepted.status_code == 201
    assert "Idempotent-Replayed" not in accepted


def test_an_expired_key_runs_again(api):
    post_note(api, "expired")
    IdempotencyRecord.objects.update(expires_at=timezone.now() - timedelta(seconds=1))

    again = post_note(api, "expired")

    assert again.status_code == 201
    assert "Idempotent-Replayed" not in again
    assert rows("expired") == 2


def test_a_required_key_that_is_missing_is_a_422_naming_the_header(api):
    missing = post_note(api, "required", key=None, path="/api/_test/notes/required")
    given = post_note(api, "required", path="/api/_test/notes/required")
    replayed = post_note(api, "required", path="/api/_test/notes/required")

    assert missing.status_code == 422
    assert body(missing)["error"]["code"] == "invalid_header"
    assert list(body(missing)["error"]["fields"]) == ["Idempotency-Key"]
    assert given.status_code == 201
    assert replayed["Idempotent-Replayed"] == "true"
    assert rows("required") == 1


def test_a_429_is_not_stored_so_the_client_may_retry_with_the_same_key(api):
    limited = post_note(api, "limited", path="/api/_test/notes/limited")
    retried = post_note(api, "limited", path="/api/_test/notes/limited")

    assert limited.status_code == 429
    assert retried.status_code == 201
    assert "Idempotent-Replayed" not in retried


def test_the_same_json_with_other_spacing_and_key_order_is_the_same_request(api):
    first = api.post("/api/_test/notes", '{"noteText": "spaced"}', HTTP_IDEMPOTENCY_KEY=KEY)
    again = api.post("/api/_test/notes", '{ "noteText" :   "spaced" }', HTTP_IDEMPOTENCY_KEY=KEY)

    assert first.status_code == again.status_code == 201
    assert again["Idempotent-Replayed"] == "true"
    assert rows("spaced") == 1


def test_a_key_left_processing_by_a_dead_process_is_taken_over(api, settings):
    post_note(api, "abandoned")
    IdempotencyRecord.objects.filter(key=KEY).update(
        state=IdempotencyRecord.State.PROCESSING,
        response_status=None,
        response_body=None,
        created_at=timezone.now() - timedelta(seconds=settings.IDEMPOTENCY_ABANDONED_SECONDS + 1),
    )

    again = post_note(api, "abandoned")

    assert again.status_code == 201
    assert "Idempotent-Replayed" not in again
    assert IdempotencyRecord.objects.get(key=KEY).state == IdempotencyRecord.State.COMPLETED
