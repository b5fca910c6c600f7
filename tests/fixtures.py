"""Fixtures every app's tests use: users, tokens, an API client through the real stack."""

from __future__ import annotations

import os
from collections.abc import Iterator
from typing import Any

import pytest
from django.test import Client


class ApiClient(Client):
    """Django's test client sending JSON bodies by default, with an optional bearer token."""

    def __init__(self, token: str | None = None, **defaults: Any) -> None:
        if token:
            defaults.setdefault("HTTP_AUTHORIZATION", f"Bearer {token}")
        super().__init__(**defaults)

    def post(self, *args: Any, **kwargs: Any) -> Any:
        kwargs.setdefault("content_type", "application/json")
        return super().post(*args, **kwargs)

    def patch(self, *args: Any, **kwargs: Any) -> Any:
        kwargs.setdefault("content_type", "application/json")
        return super().patch(*args, **kwargs)

    def put(self, *args: Any, **kwargs: Any) -> Any:
        kwargs.setdefault("content_type", "application/json")
        return super().put(*args, **kwargs)


@pytest.fixture
def api() -> ApiClient:
    return ApiClient()


@pytest.fixture
def user(db: Any) -> Any:
    from tessera.accounts.models import User

    return User.objects.create_user(
        email="ada@example.com", password="correct horse battery", name="Ada"
    )


@pytest.fixture
def other_user(db: Any) -> Any:
    from tessera.accounts.models import User

    return User.objects.create_user(
        email="grace@example.com", password="another long pass", name="Grace"
    )


@pytest.fixture
def user_api(user: Any) -> ApiClient:
    from tessera.accounts.tokens import access_token_issue

    return ApiClient(token=access_token_issue(user=user))


@pytest.fixture
def other_api(other_user: Any) -> ApiClient:
    from tessera.accounts.tokens import access_token_issue

    return ApiClient(token=access_token_issue(user=other_user))


def wsgi_get(
    app: Any, path: str, query: str = "", method: str = "GET", **meta: str
) -> tuple[int, dict[str, str], bytes]:
    """Call a WSGI application as a server would (for layers in front of Django's handler,
    which the test client bypasses): status, headers, body."""
    import io

    environ: dict[str, Any] = {
        "REQUEST_METHOD": method,
        "PATH_INFO": path,
        "QUERY_STRING": query,
        "SERVER_NAME": "testserver",
        "SERVER_PORT": "80",
        "HTTP_HOST": "testserver",
        "REMOTE_ADDR": "127.0.0.1",
        "SERVER_PROTOCOL": "HTTP/1.1",
        "wsgi.input": io.BytesIO(b""),
        "wsgi.errors": io.StringIO(),
        "wsgi.url_scheme": "http",
        "wsgi.version": (1, 0),
        "wsgi.multithread": True,
        "wsgi.multiprocess": True,
        "wsgi.run_once": False,
        **meta,
    }
    started: list[Any] = []
    chunks = app(environ, lambda status, headers, *_: started.append((status, headers)))
    body = b"".join(chunks)
    if hasattr(chunks, "close"):
        chunks.close()
    status, headers = started[0]
    return int(status.split()[0]), {name.lower(): value for name, value in headers}, body


class _KeepingConnections:
    """Django's WSGI handler without closing the test's database connection at the end of a
    request (the test client does the same for its own requests)."""

    def __init__(self) -> None:
        from django.core.handlers.wsgi import WSGIHandler

        self.handler = WSGIHandler()

    def __call__(self, environ: dict[str, Any], start_response: Any) -> list[bytes]:
        from django.core.signals import request_finished, request_started
        from django.db import close_old_connections

        request_started.disconnect(close_old_connections)
        request_finished.disconnect(close_old_connections)
        try:
            chunks = self.handler(environ, start_response)
            body = b"".join(chunks)
            if hasattr(chunks, "close"):
                chunks.close()
            return [body]
        finally:
            request_started.connect(close_old_connections)
            request_finished.connect(close_old_connections)


@pytest.fixture
def django_wsgi_app(db: Any) -> Any:
    """Django's own WSGI handler, as config/wsgi.py builds it, for `wsgi_get`."""
    return _KeepingConnections()


class CountingApp:
    """A WSGI app passed through, counting the requests that reached it (what a layer in
    front of it did not answer itself)."""

    def __init__(self, app: Any) -> None:
        self.app = app
        self.calls = 0

    def __call__(self, environ: dict[str, Any], start_response: Any) -> Any:
        self.calls += 1
        return self.app(environ, start_response)


@pytest.fixture
def django_app(django_wsgi_app: Any) -> CountingApp:
    """Django's handler behind a counter, for tests of the edge (tessera/core/edge.py)."""
    return CountingApp(django_wsgi_app)


def near_cache_settled(near: Any, timeout: float = 5.0) -> None:
    """Wait until `near`'s listener has applied every invalidation Redis sent it so far.

    Writes a marker key under the near cache's prefix and waits for the marker's own
    invalidation, which Redis sends after all earlier ones on the listener's connection:
    no fixed sleep, however loaded the machine."""
    import time

    from django.core.cache import caches

    marker = f"{near.prefix}__settled__"
    near._entries[marker] = (True, float("inf"))
    caches[near.alias].set(marker, 1, timeout=5)
    deadline = time.monotonic() + timeout
    while marker in near._entries:
        if time.monotonic() > deadline:
            raise AssertionError("the near cache's listener heard no invalidation")
        time.sleep(0.005)


SETUP_PROPERTY = "make run setup"


@pytest.fixture
def make_run_setup(request: pytest.FixtureRequest) -> Iterator[Any]:
    """What the test's `make run` runs on: the embedded default, or, in the services lane
    (TEST_DATABASE_URL set), PostgreSQL, Redis and RabbitMQ (tests/system.py
    `services_setup`). Recorded on the report; the run's summary lists it (conftest.py)."""
    from tests.system import EMBEDDED, services_requested, services_setup

    if not services_requested():
        request.node.user_properties.append((SETUP_PROPERTY, EMBEDDED.name))
        yield EMBEDDED
        return
    redis_url = request.getfixturevalue("redis_url")
    broker_url = request.getfixturevalue("broker_url")
    with services_setup(os.environ["TEST_DATABASE_URL"], redis_url, broker_url) as setup:
        request.node.user_properties.append((SETUP_PROPERTY, setup.name))
        yield setup
