"""A POST, PUT or PATCH route that takes no body refuses one (422 `body_not_accepted`), as a
route with a body refuses fields it does not know; an empty body, whitespace and `{}` are no
body. The rule is installed once for every route (tessera.core.api.bodies); the last test
walks every operation of the real API so that a new body-less route cannot escape it."""

from __future__ import annotations

from datetime import timedelta
from typing import Any

import pytest
from django.utils import timezone

from config.api import api as tessera_api
from tessera.core.api.bodies import CHECKED_METHODS, refuses_body, takes_body
from tessera.notifications.models import Notification
from tessera.notifications.services import notify
from tests.fixtures import ApiClient

pytestmark = pytest.mark.django_db

PASSWORD = "correct horse battery"  # the `user` fixture's
NO_BODIES = [b"", b"   \n\t ", b"{}", b" { \n } \r\n"]


def _refused(response: Any) -> None:
    assert response.status_code == 422, response.content
    error = response.json()["error"]
    assert error["code"] == "body_not_accepted"
    assert set(error["fields"]) == {"body"}


def _unread(user: Any) -> int:
    return Notification.objects.filter(user=user, read_at__isnull=True).count()


def _notified(user: Any, count: int) -> None:
    for _ in range(count):
        notify(user=user, kind="account.welcome", channels=["in_app"])
    assert _unread(user) == count


def _draft_event(client: ApiClient) -> str:
    start = timezone.now() + timedelta(days=7)
    created = client.post(
        "/api/events",
        {
            "title": "Jazz night",
            "description": "Live jazz in the garden",
            "startsAt": start.isoformat(),
            "endsAt": (start + timedelta(hours=3)).isoformat(),
            "timezone": "Africa/Johannesburg",
            "capacity": 50,
            "onlineUrl": "https://example.com/live",
        },
    )
    assert created.status_code == 201, created.json()
    return str(created.json()["data"]["id"])


def _signed_in() -> ApiClient:
    reply = ApiClient().post("/api/auth/login", {"email": "ada@example.com", "password": PASSWORD})
    assert reply.status_code == 200, reply.json()
    return ApiClient(token=reply.json()["data"]["accessToken"])


def test_marking_all_read_with_a_body_is_refused_and_marks_nothing(
    user: Any, user_api: ApiClient
) -> None:
    _notified(user, 2)

    response = user_api.post("/api/notifications/read-all", {"onlyKind": "account.welcome"})

    _refused(response)
    assert _unread(user) == 2


def test_marking_one_read_with_a_body_is_refused_in_arabic_too(
    user: Any, user_api: ApiClient
) -> None:
    _notified(user, 1)
    notification = Notification.objects.get(user=user)

    response = user_api.post(
        f"/api/notifications/{notification.pk}/read",
        {"read": False},
        HTTP_ACCEPT_LANGUAGE="ar",
    )

    _refused(response)
    assert response.json()["error"]["message"] == "لا يقبل هذا الطلب محتوى."
    assert _unread(user) == 1


def test_publishing_with_a_body_is_refused_and_the_event_stays_a_draft(
    user_api: ApiClient,
) -> None:
    event_id = _draft_event(user_api)

    response = user_api.post(f"/api/events/{event_id}/publish", {"notify": False})

    _refused(response)
    assert user_api.get(f"/api/events/{event_id}").json()["data"]["status"] == "draft"


def test_logging_out_with_a_body_is_refused_and_the_session_goes_on(user: Any) -> None:
    client = _signed_in()

    response = client.post("/api/auth/logout", {"everywhere": True})

    _refused(response)
    assert client.get("/api/auth/me").status_code == 200


def test_a_body_that_is_not_json_is_refused_the_same_way(user: Any, user_api: ApiClient) -> None:
    _notified(user, 1)

    response = user_api.post("/api/notifications/read-all", "mark=all", content_type="text/plain")

    _refused(response)
    assert _unread(user) == 1


def test_a_json_value_other_than_an_empty_object_is_a_body(user: Any, user_api: ApiClient) -> None:
    _notified(user, 1)

    for sent in (b"[]", b"null", b'""', b"0"):
        _refused(user_api.post("/api/notifications/read-all", sent))

    assert _unread(user) == 1


@pytest.mark.parametrize("sent", NO_BODIES, ids=["empty", "whitespace", "{}", "spaced {}"])
def test_no_body_whitespace_and_an_empty_object_are_accepted(
    user: Any, user_api: ApiClient, sent: bytes
) -> None:
    _notified(user, 2)

    response = user_api.post("/api/notifications/read-all", sent)

    assert response.status_code == 200, response.json()
    assert response.json()["data"]["marked"] == 2
    assert _unread(user) == 0


@pytest.mark.parametrize("sent", NO_BODIES, ids=["empty", "whitespace", "{}", "spaced {}"])
def test_actions_without_a_body_still_work(user_api: ApiClient, sent: bytes) -> None:
    event_id = _draft_event(user_api)

    response = user_api.post(f"/api/events/{event_id}/publish", sent)

    assert response.status_code == 200, response.json()
    assert response.json()["data"]["status"] == "published"


def test_logging_out_with_an_empty_object_works(user: Any) -> None:
    client = _signed_in()

    assert client.post("/api/auth/logout", {}).status_code == 204
    assert client.get("/api/auth/me").status_code == 401


def test_a_route_that_takes_a_body_is_unchanged(user_api: ApiClient) -> None:
    # The body route's own schema still answers for its fields.
    response = user_api.patch("/api/auth/me", {"avatar": "not-a-file-field"})

    assert response.status_code == 422
    assert response.json()["error"]["code"] == "unknown_field"


def _operations() -> list[tuple[str, Any, Any]]:
    tessera_api.urls  # noqa: B018 - binds the routers, applying the API's decorators
    return [
        (bound.prefix + path, operation, bound)
        for bound in tessera_api._get_bound_routers()
        for path, view in bound.path_operations.items()
        for operation in view.operations
    ]


def test_every_body_less_post_put_and_patch_route_refuses_a_body() -> None:
    """Walks every operation of the real API: each POST/PUT/PATCH either declares a body
    (a body, form or file parameter, or a `requestBody` in `openapi_extra`) or is wrapped by
    the refusal. A route that escaped it (a new API object, a decorator dropped) fails."""
    checked = [
        (path, operation)
        for path, operation, _ in _operations()
        if CHECKED_METHODS & set(operation.methods)
    ]
    body_less = [(path, operation) for path, operation in checked if refuses_body(operation)]
    escaped = [
        f"{'/'.join(operation.methods)} /api{path}"
        for path, operation in body_less
        if not getattr(operation.view_func, "refuses_body", False)
    ]
    wrapped_needlessly = [
        path
        for path, operation in checked
        if takes_body(operation) and getattr(operation.view_func, "refuses_body", False)
    ]

    assert escaped == []
    assert wrapped_needlessly == []
    # 18 of the 62 POST/PUT/PATCH routes took no body when the rule was written; the floor
    # only notices the walk finding nothing (routes moved out of reach of `_operations`).
    assert len(body_less) >= 15
    assert len(checked) >= 50


def test_the_schema_documents_no_body_for_the_refusing_routes() -> None:
    """What the rule refuses is what the schema already says: no `requestBody`."""
    documented = {
        operation["operationId"]: operation
        for item in tessera_api.get_openapi_schema()["paths"].values()
        for operation in item.values()
        if isinstance(operation, dict) and "operationId" in operation
    }
    refusing = [operation for _, operation, _ in _operations() if refuses_body(operation)]

    for operation in refusing:
        operation_id = operation.operation_id or tessera_api.get_openapi_operation_id(operation)
        assert "requestBody" not in documented[operation_id]
    assert refusing


def test_a_form_with_no_field_is_no_body_and_a_form_with_one_is(
    user: Any, user_api: ApiClient
) -> None:
    from django.test import Client

    _notified(user, 1)
    form_client = Client(HTTP_AUTHORIZATION=user_api.defaults["HTTP_AUTHORIZATION"])

    _refused(form_client.post("/api/notifications/read-all", {"all": "yes"}))
    assert _unread(user) == 1
    # Django's client, like a bare HTML form, encodes "no field" as a non-empty multipart body.
    assert form_client.post("/api/notifications/read-all").status_code == 200
    assert _unread(user) == 0
