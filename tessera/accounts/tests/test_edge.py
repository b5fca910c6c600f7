"""GET /api/auth/me answered at the edge (tessera/core/edge.py): the same reply as the API
view, and never for a session that has ended or a user who changed."""

from __future__ import annotations

from typing import Any

import orjson
import pytest

from tessera.core.edge import EdgeApp
from tests.fixtures import ApiClient, CountingApp, wsgi_get

pytestmark = pytest.mark.django_db

URL = "/api/auth/me"
ROUTES = {URL: "tessera.accounts.edge.me"}
PASSWORD = "correct horse battery"
PER_REPLY = {"x-request-id", "date"}


@pytest.fixture
def edge(django_app: CountingApp, settings: Any) -> EdgeApp:
    settings.RATE_LIMIT_ENABLED = False
    return EdgeApp(django_app, routes=ROUTES)


def login() -> str:
    response = ApiClient().post(
        "/api/auth/login", {"email": "ada@example.com", "password": PASSWORD}
    )
    assert response.status_code == 200, response.json()
    return str(response.json()["data"]["accessToken"])


def bearer(token: str) -> dict[str, str]:
    return {"HTTP_AUTHORIZATION": f"Bearer {token}"}


def payload(body: bytes) -> Any:
    data = orjson.loads(body)
    data.pop("timestamp")
    return data


def test_a_kept_reply_is_answered_at_the_edge_as_the_view_would(
    edge: EdgeApp, django_app: CountingApp, user: Any
) -> None:
    token = login()
    first = wsgi_get(edge, URL, **bearer(token))  # the view answers and keeps the reply
    assert (first[0], django_app.calls) == (200, 1)

    status, headers, body = wsgi_get(edge, URL, **bearer(token))

    assert django_app.calls == 1  # answered at the edge
    assert status == 200
    assert payload(body) == payload(first[2])
    assert {k: v for k, v in headers.items() if k not in PER_REPLY} == {
        k: v for k, v in first[1].items() if k not in PER_REPLY
    }


def test_a_session_ended_elsewhere_is_refused_at_once(
    edge: EdgeApp, django_app: CountingApp, user: Any
) -> None:
    token = login()
    wsgi_get(edge, URL, **bearer(token))
    assert wsgi_get(edge, URL, **bearer(token))[0] == 200

    assert ApiClient(token=token).post("/api/auth/logout").status_code == 204

    status, _headers, body = wsgi_get(edge, URL, **bearer(token))
    assert status == 401
    assert orjson.loads(body)["error"]["code"] == "not_authenticated"


def test_a_change_to_the_user_is_seen_at_once(
    edge: EdgeApp, django_app: CountingApp, user: Any
) -> None:
    token = login()
    wsgi_get(edge, URL, **bearer(token))
    wsgi_get(edge, URL, **bearer(token))

    assert ApiClient(token=token).patch(URL, {"name": "Ada King"}).status_code == 200
    assert orjson.loads(wsgi_get(edge, URL, **bearer(token))[2])["data"]["name"] == "Ada King"

    user.refresh_from_db()
    user.is_active = False
    user.save()
    assert wsgi_get(edge, URL, **bearer(token))[0] == 401


@pytest.mark.parametrize(
    ("meta", "query", "status"),
    [
        ({"HTTP_AUTHORIZATION": ""}, "", 401),  # no token
        ({"HTTP_AUTHORIZATION": "Bearer not.a.token"}, "", 401),
        ({"HTTP_AUTHORIZATION": "Basic YWRhOnB3"}, "", 401),
        ({"HTTP_HOST": "localhost"}, "", 200),  # kept for another host: the view answers
        ({}, "fields=name", 200),
    ],
)
def test_anything_else_goes_to_the_view(
    edge: EdgeApp,
    django_app: CountingApp,
    *,
    user: Any,
    settings: Any,
    meta: dict[str, str],
    query: str,
    status: int,
) -> None:
    settings.ALLOWED_HOSTS = ["testserver", "localhost"]
    edge = EdgeApp(django_app, routes=ROUTES)  # the edge reads its settings when built
    token = login()
    wsgi_get(edge, URL, **bearer(token))
    calls = django_app.calls

    answered = wsgi_get(edge, URL, query, **{**bearer(token), **meta})

    assert answered[0] == status
    assert django_app.calls == calls + 1


def test_other_paths_under_me_are_not_the_edges(
    edge: EdgeApp, django_app: CountingApp, user: Any
) -> None:
    token = login()

    assert wsgi_get(edge, URL + "/export", method="GET", **bearer(token))[0] == 405
    assert django_app.calls == 1
