"""GET /api/auth/me through the production WSGI stack (the edge in front of Django, as
config/wsgi.py builds it): Django answers every signed-in read, with Ninja's token check the
only one (docs/decisions/0032), from the reply kept in the authentication cache, and never
for a session that has ended or a user who changed."""

from __future__ import annotations

from typing import Any

import orjson
import pytest
from django.db import connection
from django.test.utils import CaptureQueriesContext

from tessera.core import edge
from tests.fixtures import ApiClient, CountingApp, wsgi_get

pytestmark = pytest.mark.django_db

URL = "/api/auth/me"
PASSWORD = "correct horse battery"
PER_REPLY = {"x-request-id", "date"}


@pytest.fixture
def stack(django_app: CountingApp, settings: Any) -> Any:
    settings.RATE_LIMIT_ENABLED = False
    settings.EDGE_ENABLED = True
    return edge.wrap(django_app)


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


def test_the_kept_reply_is_django_s_own_without_a_query(
    stack: Any, django_app: CountingApp, user: Any
) -> None:
    token = login()
    first = wsgi_get(stack, URL, **bearer(token))  # builds the reply and keeps it
    assert first[0] == 200

    with CaptureQueriesContext(connection) as queries:
        status, headers, body = wsgi_get(stack, URL, **bearer(token))

    assert django_app.calls == 2  # Django answered both: nothing signed in is the edge's
    assert status == 200
    assert payload(body) == payload(first[2])
    assert {k: v for k, v in headers.items() if k not in PER_REPLY} == {
        k: v for k, v in first[1].items() if k not in PER_REPLY
    }
    # The embedded default keeps its cache in the database: one read is the cache read.
    assert all("tessera_cache" in q["sql"] for q in queries.captured_queries)


def test_head_is_the_get_without_its_body(stack: Any, user: Any) -> None:
    token = login()
    get = wsgi_get(stack, URL, **bearer(token))

    status, headers, body = wsgi_get(stack, URL, method="HEAD", **bearer(token))

    assert (status, body) == (200, b"")
    assert headers["content-length"] == str(len(get[2]))


def test_a_session_ended_elsewhere_is_refused_at_once(stack: Any, user: Any) -> None:
    token = login()
    wsgi_get(stack, URL, **bearer(token))
    assert wsgi_get(stack, URL, **bearer(token))[0] == 200  # from the kept reply

    assert ApiClient(token=token).post("/api/auth/logout").status_code == 204

    status, _headers, body = wsgi_get(stack, URL, **bearer(token))
    assert status == 401
    assert orjson.loads(body)["error"]["code"] == "not_authenticated"


def test_a_change_to_the_user_is_seen_at_once(stack: Any, user: Any) -> None:
    token = login()
    wsgi_get(stack, URL, **bearer(token))
    wsgi_get(stack, URL, **bearer(token))

    assert ApiClient(token=token).patch(URL, {"name": "Ada King"}).status_code == 200
    assert orjson.loads(wsgi_get(stack, URL, **bearer(token))[2])["data"]["name"] == "Ada King"

    user.refresh_from_db()
    user.is_active = False
    user.save()
    assert wsgi_get(stack, URL, **bearer(token))[0] == 401


@pytest.mark.parametrize(
    "authorization",
    ["", "Bearer", "Bearer not.a.token", "Basic YWRhOnB3", "bearer x.y.z", "Token abc"],
)
def test_a_missing_or_unusable_token_is_a_401(
    stack: Any, user: Any, settings: Any, authorization: str
) -> None:
    token = login()
    wsgi_get(stack, URL, **bearer(token))  # a reply is kept for the user

    status, _headers, body = wsgi_get(stack, URL, HTTP_AUTHORIZATION=authorization)

    assert status == 401
    assert orjson.loads(body)["error"]["code"] == "not_authenticated"


def test_a_reply_kept_for_one_host_is_not_served_for_another(
    stack: Any, user: Any, settings: Any
) -> None:
    settings.ALLOWED_HOSTS = ["testserver", "localhost"]
    token = login()
    wsgi_get(stack, URL, **bearer(token))

    status, _headers, body = wsgi_get(stack, URL, **bearer(token), HTTP_HOST="localhost")

    assert status == 200
    assert orjson.loads(body)["data"]["email"] == "ada@example.com"


def test_other_paths_under_me_keep_their_own_methods(stack: Any, user: Any) -> None:
    token = login()

    assert wsgi_get(stack, URL + "/export", method="GET", **bearer(token))[0] == 405
    assert wsgi_get(stack, URL, "fields=name", **bearer(token))[0] == 200
