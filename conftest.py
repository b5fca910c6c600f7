"""Shared fixtures and the service lanes.

The suite runs on SQLite by default. Tests that need a real server are marked:
- `postgres`: run only when the database is PostgreSQL (TEST_DATABASE_URL, the services lane);
- `redis`: need TEST_REDIS_URL (default redis://127.0.0.1:6379/12: index 12 is the tests' own);
- `broker`: need TEST_BROKER_URL (default amqp://guest:guest@127.0.0.1:5672/tessera_test: the
  tests' own vhost, which `.ci/run` creates).
When a server is unreachable these are skipped with one line naming it, unless CI=true, where
an unreachable server fails the run. The lanes are described in
docs/decisions/0015-test-lanes-with-services.md.
"""

from __future__ import annotations

import os
import socket
from collections.abc import Iterator
from functools import lru_cache
from typing import Any
from urllib.parse import unquote, urlparse

import pytest

pytest_plugins = ["tests.fixtures"]

IN_CI = os.environ.get("CI", "").lower() in {"1", "true", "yes"}
# The defaults are the tests' own names on the local servers, never a developer's data.
TEST_REDIS_URL = os.environ.get("TEST_REDIS_URL", "redis://127.0.0.1:6379/12")
TEST_BROKER_URL = os.environ.get(
    "TEST_BROKER_URL", "amqp://guest:guest@127.0.0.1:5672/tessera_test"
)


def server_reachable(url: str, default_port: int) -> bool:
    parsed = urlparse(url)
    try:
        with socket.create_connection(
            (parsed.hostname or "127.0.0.1", parsed.port or default_port), timeout=1
        ):
            return True
    except OSError:
        return False


def _unusable(message: str, hint: str) -> None:
    if IN_CI:
        pytest.fail(f"{message} (required with CI=true)", pytrace=False)
    pytest.skip(f"{message}: {hint}")


def _need(name: str, url: str, default_port: int) -> None:
    if not server_reachable(url, default_port):
        _unusable(
            f"{name} is not reachable at {url}",
            "start it or set the TEST_* URL to run this test",
        )


@lru_cache(maxsize=4)
def broker_refusal(url: str) -> str | None:
    """Why RabbitMQ at `url` refuses a connection (a missing vhost, say), or None."""
    from kombu import Connection

    try:
        with Connection(url, connect_timeout=3) as connection:
            connection.ensure_connection(max_retries=1, timeout=3)
    except Exception as exc:  # noqa: BLE001 - any refusal: say what it was
        return f"{type(exc).__name__}: {exc}"
    return None


def _need_broker(url: str) -> None:
    _need("RabbitMQ", url, 5672)
    refusal = broker_refusal(url)
    if refusal is not None:
        vhost = unquote(urlparse(url).path.lstrip("/")) or "/"
        _unusable(
            f"RabbitMQ at {url} refuses the connection ({refusal})",
            f"does the vhost {vhost!r} exist? `.ci/run` creates it: rabbitmqctl add_vhost "
            f"{vhost} && rabbitmqctl set_permissions -p {vhost} guest '.*' '.*' '.*'",
        )


def pytest_collection_modifyitems(config: Any, items: list[Any]) -> None:
    from django.db import connection

    on_postgres = connection.vendor == "postgresql"
    skip_pg = pytest.mark.skip(
        reason="needs PostgreSQL: runs in the PostgreSQL lane (TEST_DATABASE_URL)"
    )
    unserialized = []
    for item in items:
        if "postgres" in item.keywords and not on_postgres:
            item.add_marker(skip_pg)
        marker = item.get_closest_marker("django_db")
        if (
            marker
            and marker.kwargs.get("transaction")
            and not marker.kwargs.get("serialized_rollback")
        ):
            unserialized.append(item.nodeid)
    if unserialized:
        # A flush without serialized rollback re-creates the content types (post_migrate); a
        # serialized test after it on the same worker then loads a second copy at setup
        # (IntegrityError on django_content_type): an order-dependent flake under xdist.
        raise pytest.UsageError(
            "transactional tests need serialized_rollback=True here: " + ", ".join(unserialized)
        )


@pytest.fixture
def redis_url() -> str:
    _need("Redis", TEST_REDIS_URL, 6379)
    return TEST_REDIS_URL


@pytest.fixture
def broker_url() -> str:
    _need_broker(TEST_BROKER_URL)
    return TEST_BROKER_URL


@pytest.fixture(scope="session", autouse=True)
def _own_cache_keys_removed_at_the_end() -> Iterator[None]:
    """On the Redis lane, leave nothing behind in the tests' Redis database."""
    yield
    from django.core.cache import cache

    cache.clear()


@pytest.fixture(autouse=True)
def _clear_cache() -> None:
    from django.contrib.contenttypes.models import ContentType
    from django.core.cache import cache

    from tessera.core import ratelimit
    from tessera.core.outages import outages_forget

    cache.clear()
    # Content type ids are cached per process; a transactional test elsewhere on this worker
    # may have flushed and restored the table.
    ContentType.objects.clear_cache()
    # The default limit keeps per-process counts beside the cache; start each test clean.
    ratelimit.default_limiter.cache_clear()
    # Outages are told once per interval per process: one test's dead cache must not silence
    # the report another test looks for.
    outages_forget()


def pytest_terminal_summary(terminalreporter: Any) -> None:
    """Which setup each end-to-end test's `make run` ran on (tests/fixtures.py
    `make_run_setup`): the embedded default, or the services lane's servers."""
    lines = []
    for outcome in ("passed", "failed", "error"):
        for report in terminalreporter.stats.get(outcome, []):
            if getattr(report, "when", "call") != "call" and outcome != "error":
                continue
            for name, value in getattr(report, "user_properties", ()):
                if name == "make run setup":
                    lines.append(f"{report.nodeid} {outcome}: make run on {value}")
    if lines:
        terminalreporter.write_sep("-", "make run setups")
        for line in dict.fromkeys(lines):
            terminalreporter.write_line(line)
