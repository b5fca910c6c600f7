"""Rules every route of the real API keeps, read from its OpenAPI schema, so a route added
later that breaks one fails here: creating POSTs take `Idempotency-Key`, and JSON request
bodies refuse fields they do not know."""

from __future__ import annotations

import re
from datetime import timedelta
from typing import Any

import pytest
from django.utils import timezone

from config.api import api as tessera_api

pytestmark = pytest.mark.django_db

# POSTs that create something but answer 202 (work started): they carry the key too.
CREATING_WITHOUT_201 = {("post", "/api/auth/me/export")}


@pytest.fixture(scope="module")
def schema() -> dict[str, Any]:
    return tessera_api.get_openapi_schema()


def _operations(schema: dict[str, Any]) -> list[tuple[str, str, dict[str, Any]]]:
    return [
        (method, path, operation)
        for path, item in schema["paths"].items()
        for method, operation in item.items()
        if isinstance(operation, dict)
    ]


def test_every_creating_post_declares_the_idempotency_key(schema: dict[str, Any]) -> None:
    creating = [
        (method, path, operation)
        for method, path, operation in _operations(schema)
        if method == "post"
        and ("201" in map(str, operation["responses"]) or (method, path) in CREATING_WITHOUT_201)
    ]
    missing = [
        f"{method.upper()} {path}"
        for method, path, operation in creating
        if not any(
            parameter["in"] == "header" and parameter["name"] == "Idempotency-Key"
            for parameter in operation.get("parameters", [])
        )
    ]

    assert len(creating) >= 7
    assert missing == [], "add @idempotent below the route decorator"


# Every POST without `Idempotency-Key`, and why a retry is already safe. A new POST that is in
# neither this list nor the creating ones above fails the test below: declare the key
# (@idempotent) or add it here with its reason.
KEYLESS_POSTS = {
    # Accounts are keyed by the address or number itself: a repeat finds the same account and
    # answers the same (tests: accounts/test_password.py, test_phone.py, test_concurrency.py).
    "/api/auth/register": "account keyed by its email",
    "/api/auth/signup": "sends a code; the account is made by verify-otp, keyed by the number",
    "/api/auth/verify-otp": "single-use code; the account is keyed by the number",
    "/api/auth/oauth/{provider}/callback": "account keyed by the provider's subject",
    "/api/auth/oauth/{provider}/token": "account keyed by the provider's subject",
    # Sign-in and token moves: a retry signs in again or is refused as reused, creating nothing
    # a client would see twice.
    "/api/auth/login": "sign-in",
    "/api/auth/verify-login": "sign-in with a single-use code",
    "/api/auth/refresh": "rotation with reuse detection",
    "/api/auth/logout": "ends a session",
    "/api/auth/logout-all": "ends sessions",
    # Messages sent under per-address rate limits; a repeat sends a fresh code or link.
    "/api/auth/verify-email/resend": "message",
    "/api/auth/password/forgot": "message",
    "/api/auth/me/delete/code": "message",
    "/api/auth/me/email": "message to the new address",
    "/api/auth/me/phone": "message to the new number",
    # Single-use codes and tokens: the second use is refused, the first one's effect stands.
    "/api/auth/verify-email": "single-use code",
    "/api/auth/password/reset": "single-use token",
    "/api/auth/password/change": "sets a value",
    "/api/auth/me/email/confirm": "single-use code",
    "/api/auth/me/phone/confirm": "single-use code",
    "/api/auth/complete-profile": "sets values",
    # State moves: the state machine refuses or repeats a move already made.
    "/api/notifications/read-all": "state move",
    "/api/notifications/{notification_id}/read": "state move",
    "/api/files/{file_id}/complete": "state move",
    "/api/capsules/{capsule_id}/seal": "state move",
    "/api/capsules/{capsule_id}/open": "state move",
    "/api/capsules/{capsule_id}/reply": "one reply per capsule",
    "/api/events/requests/{request_id}/cancel": "state move",
    "/api/events/invites/{invite_id}/accept": "state move",
    "/api/events/invites/{invite_id}/decline": "state move",
    "/api/events/{event_id}/publish": "state move",
    "/api/events/{event_id}/postpone": "state move",
    "/api/events/{event_id}/cancel": "state move",
    "/api/events/{event_id}/requests/decide": "state moves, per-id results",
    "/api/events/{event_id}/requests/{request_id}/accept": "state move",
    "/api/events/{event_id}/requests/{request_id}/decline": "state move",
    # Door scans carry their own key: the client's nonce (a retried scan answers the same).
    "/api/events/{event_id}/checkins": "idempotent by the scan's nonce",
    "/api/events/{event_id}/checkins/batch": "idempotent by each scan's nonce",
    # Staff rebuild of the cached document: the same result however often.
    "/api/update-redis/": "rebuild",
}


def test_every_post_without_the_key_is_one_whose_retry_is_safe(schema: dict[str, Any]) -> None:
    keyless = {
        path
        for method, path, operation in _operations(schema)
        if method == "post"
        and not any(
            parameter["in"] == "header" and parameter["name"] == "Idempotency-Key"
            for parameter in operation.get("parameters", [])
        )
    }

    assert sorted(keyless - KEYLESS_POSTS.keys()) == [], (
        "a POST without Idempotency-Key: declare it (@idempotent) or say in KEYLESS_POSTS "
        "why a retry is safe"
    )
    assert sorted(KEYLESS_POSTS.keys() - keyless) == [], "remove what no longer applies"


def _open_objects(node: Any, components: dict[str, Any], seen: set[str], where: str) -> list[str]:
    if isinstance(node, list):
        return [found for item in node for found in _open_objects(item, components, seen, where)]
    if not isinstance(node, dict):
        return []
    if "$ref" in node:
        name = node["$ref"].rsplit("/", 1)[1]
        if name in seen:
            return []
        seen.add(name)
        return _open_objects(components[name], components, seen, name)
    found = []
    is_object = node.get("type") == "object" and "properties" in node
    if is_object and node.get("additionalProperties") is not False:
        found.append(where)
    for value in node.values():
        found.extend(_open_objects(value, components, seen, where))
    return found


def test_every_json_body_refuses_unknown_fields(schema: dict[str, Any]) -> None:
    components = schema["components"]["schemas"]
    open_bodies = []
    bodies = 0
    for method, path, operation in _operations(schema):
        content = operation.get("requestBody", {}).get("content", {})
        if "application/json" in content:
            bodies += 1
            where = f"{method.upper()} {path}"
            open_bodies += _open_objects(
                content["application/json"]["schema"], components, set(), where
            )

    assert bodies >= 25
    assert open_bodies == [], "request body schemas derive from tessera.core.api.InputSchema"


@pytest.mark.parametrize(
    ("path", "payload"),
    [
        ("/api/recipients", {"name": "Grace", "email": "grace@example.com"}),
        ("/api/drafts", {"title": "Later", "body": "Words"}),
        ("/api/capsules", {"title": "Hello", "receiverEmail": "grace@example.com"}),
    ],
)
def test_a_real_creating_post_replays_its_first_reply(
    user_api: Any, path: str, payload: dict[str, Any]
) -> None:
    first = user_api.post(path, payload, HTTP_IDEMPOTENCY_KEY="create-1")
    replay = user_api.post(path, payload, HTTP_IDEMPOTENCY_KEY="create-1")
    changed = {key: f"{value} (changed)" for key, value in payload.items() if key != "email"}
    other_body = user_api.post(path, {**payload, **changed}, HTTP_IDEMPOTENCY_KEY="create-1")
    listed = user_api.get(path if path != "/api/capsules" else f"{path}?box=outbox")

    assert first.status_code == replay.status_code == 201
    assert replay["Idempotent-Replayed"] == "true"
    assert replay.json()["data"]["id"] == first.json()["data"]["id"]
    assert other_body.status_code == 422
    assert other_body.json()["error"]["code"] == "idempotency_key_reused"
    assert listed.json()["data"]["count"] == 1


def test_an_unknown_field_is_refused_by_name_and_changes_nothing(user: Any, user_api: Any) -> None:
    response = user_api.patch("/api/auth/me", {"avatar": "not-a-file-field"})

    assert response.status_code == 422
    assert response.json()["error"]["code"] == "unknown_field"
    assert response.json()["error"]["fields"] == {
        "avatar": "Unknown field: this request does not take it."
    }


def test_every_creating_post_links_to_the_read_of_what_it_created(
    schema: dict[str, Any],
) -> None:
    operation_ids = {
        operation["operationId"]: (method, path) for method, path, operation in _operations(schema)
    }
    creating = [
        (path, response)
        for method, path, operation in _operations(schema)
        for status, response in operation["responses"].items()
        if method == "post" and str(status) == "201"
    ]
    unlinked = []
    reads = {}
    for path, created in creating:
        targets = [operation_ids[link["operationId"]] for link in created.get("links", {}).values()]
        gets = [target for target in targets if target[0] == "get"]
        if not gets:
            unlinked.append(path)
        reads[path] = gets
        for link in created.get("links", {}).values():
            from_reply = [v for v in link["parameters"].values() if v.startswith("$response.")]
            from_path = [v for v in link["parameters"].values() if v not in from_reply]
            assert len(from_reply) == 1
            assert from_reply[0].startswith("$response.body#/data/")
            assert all(value.startswith("$request.path.") for value in from_path), from_path
            assert {v.removeprefix("$request.path.") for v in from_path} <= set(
                re.findall(r"{(\w+)}", path)
            ), (path, from_path)

    assert len(creating) >= 6
    assert unlinked == [], "a 201 reply's data needs an `id` read back by a GET /{id}"
    assert reads["/api/capsules"] == [("get", "/api/capsules/{capsule_id}")]
    assert reads["/api/drafts/{draft_id}/send"] == [("get", "/api/capsules/{capsule_id}")]
    assert reads["/api/files/uploads"] == [("get", "/api/files/{file_id}")]
    assert reads["/api/events/{event_id}/helpers"] == [
        ("get", "/api/events/{event_id}/helpers/{user_id}")
    ]
    helper_links = next(r for p, r in creating if p == "/api/events/{event_id}/helpers")["links"]
    assert {"event_id": "$request.path.event_id", "user_id": "$response.body#/data/user/id"} in [
        link["parameters"] for link in helper_links.values()
    ]


def _body_properties(operation: dict[str, Any], components: dict[str, Any]) -> list[str]:
    body = operation["requestBody"]["content"]["application/json"]["schema"]
    if "$ref" in body:
        body = components[body["$ref"].rsplit("/", 1)[1]]
    return sorted(body["properties"])


def test_a_null_for_any_field_of_any_patch_is_a_reply_not_a_500(
    schema: dict[str, Any], user: Any, other_user: Any, user_api: Any, settings: Any
) -> None:
    """Found by the stateful schemathesis run: `{"title": null}` on a draft was a 500 (the
    column is NOT NULL). Every PATCH, on a real object, with null for each field in turn."""
    from tessera.capsules.models import CapsuleState, Draft, Recipient
    from tessera.capsules.tests.factories import make_capsule

    settings.RATE_LIMIT_ENABLED = False
    ids = {
        "capsule_id": make_capsule(sender=user, receiver=other_user, state=CapsuleState.DRAFT).pk,
        "draft_id": Draft.objects.create(owner=user, title="Later", body="Words").pk,
        "recipient_id": Recipient.objects.create(owner=user, name="G", email="g@example.com").pk,
    }
    now = timezone.now()
    ids["venue_id"] = user_api.post(
        "/api/venues",
        {"name": "Hall", "address": "1 Main Rd", "latitude": -33.9, "longitude": 18.4},
        headers={"Idempotency-Key": "venue-for-null-patch"},
    ).json()["data"]["id"]
    ids["event_id"] = user_api.post(
        "/api/events",
        {
            "title": "Jazz night",
            "startsAt": (now + timedelta(days=7)).isoformat(),
            "endsAt": (now + timedelta(days=7, hours=3)).isoformat(),
            "timezone": "Africa/Johannesburg",
            "capacity": 50,
            "onlineUrl": "https://example.com/live",
        },
        headers={"Idempotency-Key": "event-for-null-patch"},
    ).json()["data"]["id"]
    components = schema["components"]["schemas"]
    replies = {}
    for method, path, operation in _operations(schema):
        if method != "patch":
            continue
        concrete = path.format(**ids)  # a PATCH on a new kind of object needs an id above
        for name in _body_properties(operation, components):
            replies[f"{path} {name}"] = user_api.patch(concrete, {name: None}).status_code

    assert len(replies) >= 20
    assert {key: status for key, status in replies.items() if status >= 500} == {}
    assert replies["/api/drafts/{draft_id} title"] == 422
    assert replies["/api/drafts/{draft_id} recipientId"] == 200  # null clears the recipient
