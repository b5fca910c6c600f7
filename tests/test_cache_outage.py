"""A dead cache server (issue 13, item 12): the website document is served from the database,
the outage is logged once per interval rather than per request, only the cache client's
connection errors count as an outage, and a server that never answers fails fast.

The dead servers are real: a closed port on 127.0.0.1 (connection refused) and a listening
socket that never answers (connection accepted by the kernel, no reply)."""

from __future__ import annotations

import socket
import time
from typing import Any

import pytest
from django.conf import settings as django_settings
from django.core.cache import cache
from django.db import DatabaseError
from django.utils import timezone
from structlog.testing import capture_logs

from tessera.content import demo, selectors, services
from tessera.core.outages import outage_report
from tests.fixtures import ApiClient

URL = "/api/website-data/"

pytestmark = pytest.mark.django_db


def closed_port() -> int:
    with socket.socket() as sock:
        sock.bind(("127.0.0.1", 0))
        return int(sock.getsockname()[1])  # closed again when the block ends


@pytest.fixture
def site(db: Any) -> None:
    from django.db import connection

    from tessera.content.signals import rebuild_after_commit

    demo.load()
    # The test's transaction never commits: drop the rebuild it would have run.
    connection.run_on_commit = [
        entry for entry in connection.run_on_commit if entry[1] is not rebuild_after_commit
    ]


def redis_cache_at(url: str) -> dict[str, Any]:
    return {
        "default": {
            "BACKEND": "tessera.core.cache.PooledRedisCache",
            "LOCATION": url,
            "KEY_PREFIX": "outage-test",
            "OPTIONS": django_settings.REDIS_CACHE_OPTIONS,
        }
    }


@pytest.fixture
def dead_cache(settings: Any) -> None:
    settings.CACHES = redis_cache_at(f"redis://127.0.0.1:{closed_port()}/0")
    # The default limit keeps its counters in the same cache; it has its own outage report.
    settings.RATE_LIMIT_ENABLED = False


def events(logs: list[Any], name: str) -> list[Any]:
    return [entry for entry in logs if entry["event"] == name]


def test_each_request_is_served_and_the_outage_is_logged_once(
    api: ApiClient, site: None, dead_cache: None
) -> None:
    with capture_logs() as logs:
        replies = [api.get(URL + "?lang=en") for _ in range(5)]

    assert [reply.status_code for reply in replies] == [200] * 5
    assert replies[-1].json()["data"]["menuItems"][0]["title"] == "Home"
    reported = events(logs, "content.cache_unavailable")
    assert len(reported) == 1
    assert reported[0]["log_level"] == "error"
    assert reported[0]["error"].startswith("ConnectionError")
    assert "exc_info" not in reported[0]  # no traceback: the error line says it all
    assert [entry for entry in logs if entry["log_level"] == "error"] == reported


def test_during_an_outage_each_process_builds_the_document_once_per_interval(
    api: ApiClient, site: None, dead_cache: None, monkeypatch: Any
) -> None:
    builds: list[int] = []
    real_build = services._build

    def counted() -> services.Built:
        builds.append(1)
        return real_build()

    monkeypatch.setattr(services, "_build", counted)

    first = [api.get(URL).status_code for _ in range(5)]
    assert (first, len(builds)) == ([200] * 5, 1)

    # A change saved in this process is seen at once (the rebuild cannot reach the cache).
    services.document_rebuild_quietly()
    assert len(builds) == 2
    assert api.get(URL).status_code == 200
    assert len(builds) == 3


def test_the_outage_is_told_again_after_the_interval_with_the_count_since(
    settings: Any,
) -> None:
    settings.OUTAGE_LOG_INTERVAL_SECONDS = 0.2
    error = ConnectionError("refused")

    with capture_logs() as logs:
        told = [outage_report("cache", error, event="x") for _ in range(4)]
        time.sleep(0.25)
        told.append(outage_report("cache", error, event="x"))
        told.append(outage_report("rate-limit storage", error, event="y", level="warning"))

    assert told == [True, False, False, False, True, True]
    assert [(e["event"], e["unreported_since_last"]) for e in logs] == [
        ("x", 0),
        ("x", 3),
        ("y", 0),
    ]
    assert logs[-1]["log_level"] == "warning"


def test_a_database_error_is_an_error_not_a_cache_outage(
    site: None, monkeypatch: Any, dead_cache: None
) -> None:
    def broken(**_kwargs: Any) -> Any:
        raise DatabaseError("relation does not exist")

    monkeypatch.setattr(services, "document_build", broken)
    client = ApiClient(raise_request_exception=False)

    with capture_logs() as logs:
        response = client.get(URL)

    assert response.status_code == 500
    assert response.json()["error"]["code"] == "internal_error"
    # The cache was down too, and said so once; the failure itself is not called an outage.
    assert len(events(logs, "content.cache_unavailable")) == 1


def test_a_code_error_in_the_cache_path_is_not_called_an_outage(
    site: None, monkeypatch: Any
) -> None:
    def broken(keys: list[str]) -> Any:
        raise TypeError("a bug")

    monkeypatch.setattr(cache, "get_many", broken)
    client = ApiClient(raise_request_exception=False)

    with capture_logs() as logs:
        response = client.get(URL)

    assert response.status_code == 500
    assert events(logs, "content.cache_unavailable") == []


def test_update_redis_with_the_cache_down_is_a_503(
    site: None, staff_api: ApiClient, dead_cache: None
) -> None:
    response = staff_api.post("/api/update-redis/")

    assert response.status_code == 503
    assert response.json()["error"]["code"] == "cache_unavailable"


def test_a_change_saved_while_the_cache_is_down_is_reported_once_and_not_refused(
    site: None, dead_cache: None
) -> None:
    with capture_logs() as logs:
        services.document_rebuild_quietly()
        services.document_rebuild_quietly()

    assert len(events(logs, "content.cache_unavailable")) == 1


def test_a_cache_server_that_never_answers_fails_fast(site: None, settings: Any) -> None:
    # The kernel completes the handshake for a listening socket nobody accepts from: the
    # connection succeeds and then nothing ever comes back, as with a hung server.
    with socket.socket() as silent:
        silent.bind(("127.0.0.1", 0))
        silent.listen(16)
        port = silent.getsockname()[1]
        settings.CACHES = redis_cache_at(f"redis://127.0.0.1:{port}/0")
        settings.RATE_LIMIT_ENABLED = False
        started = time.monotonic()

        entries = services.cached_entries([services.doc_key("en")])

        elapsed = time.monotonic() - started
    assert entries[services.doc_key("en")][2].startswith(b"{")
    # Without a socket timeout this call never returns; with it, it returns after about
    # REDIS_SOCKET_TIMEOUT_SECONDS (1 s). The bound is generous for a loaded machine.
    assert settings.REDIS_CACHE_OPTIONS["socket_timeout"] == 1.0
    assert elapsed < 10


def test_the_redis_cache_fails_fast_by_default() -> None:
    assert django_settings.REDIS_CACHE_OPTIONS == {
        "socket_connect_timeout": 0.25,
        "socket_timeout": 1.0,
    }
    assert selectors.SECTIONS  # the document this module serves has sections to build


@pytest.fixture
def staff_api(db: Any) -> ApiClient:
    from tessera.accounts.models import User
    from tessera.accounts.tokens import access_token_issue

    staff = User.objects.create_user(
        email="editor@example.com", password="correct horse battery", name="Ed", is_staff=True
    )
    return ApiClient(token=access_token_issue(user=staff))


def _signed_in(user: Any) -> ApiClient:
    """A token with a session, as a sign-in gives (the auth cache keeps sessions)."""
    reply = ApiClient().post(
        "/api/auth/login", {"email": user.email, "password": "correct horse battery"}
    )
    assert reply.status_code == 200, reply.content
    return ApiClient(token=reply.json()["data"]["accessToken"])


def _cache_dies(settings: Any) -> None:
    settings.CACHES = redis_cache_at(f"redis://127.0.0.1:{closed_port()}/0")
    settings.RATE_LIMIT_ENABLED = False


def test_a_signed_in_request_with_the_cache_down_is_checked_in_the_database(
    settings: Any, user: Any
) -> None:
    """The soak's one 500: Redis restarting while a signed-in request read its session from
    the auth cache. The cache is an optimisation; the session is checked in the database."""
    api = _signed_in(user)
    _cache_dies(settings)
    with capture_logs() as logs:
        first = api.get("/api/auth/me")
        second = api.get("/api/auth/me")

    assert [first.status_code, second.status_code] == [200, 200]
    assert first.json()["data"]["email"] == user.email
    assert events(logs, "unhandled_api_error") == []


def test_a_revoked_session_is_refused_with_the_cache_down(settings: Any, user: Any) -> None:
    from tessera.accounts.models import AuthSession

    api = _signed_in(user)
    _cache_dies(settings)
    assert api.get("/api/auth/me").status_code == 200
    AuthSession.objects.filter(user=user).update(revoked_at=timezone.now())

    assert api.get("/api/auth/me").status_code == 401


def test_signing_in_with_the_cache_down_is_refused_as_unavailable(
    dead_cache: None, user: Any
) -> None:
    """The sign-in lockout's counters live in the cache; without them sign-in fails closed
    (never unmetered), as a 503 to retry, not a server error."""
    reply = ApiClient().post(
        "/api/auth/login", {"email": user.email, "password": "correct horse battery"}
    )

    assert reply.status_code == 503
    assert reply.json()["error"]["code"] == "service_unavailable"


def test_a_cache_error_no_code_falls_back_from_is_a_503(
    user_api: ApiClient, monkeypatch: Any
) -> None:
    from redis.exceptions import ConnectionError as RedisConnectionError

    from tessera.notifications import selectors as notification_selectors

    def unreachable(**kwargs: Any) -> Any:
        raise RedisConnectionError("Error 111 connecting to 127.0.0.1:6379. Connection refused.")

    monkeypatch.setattr(notification_selectors, "notification_list", unreachable)
    with capture_logs() as logs:
        reply = user_api.get("/api/notifications")

    assert reply.status_code == 503
    assert reply.json()["error"]["code"] == "service_unavailable"
    assert events(logs, "unhandled_api_error") == []
