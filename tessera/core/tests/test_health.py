"""Liveness, readiness against real dependencies, and who may read /metrics."""

from __future__ import annotations

import os
import socket
import subprocess
import sys
import textwrap

import orjson
import pytest
from django.conf import settings
from django.test import override_settings

from tessera.core.tests.conftest import body

pytestmark = [pytest.mark.urls("tessera.core.tests.urls"), pytest.mark.django_db]


def unused_port() -> int:
    with socket.socket() as probe:
        probe.bind(("127.0.0.1", 0))
        return int(probe.getsockname()[1])


def test_liveness_is_a_plain_ok(api):
    response = api.get("/health/")

    assert response.status_code == 200
    assert body(response) == {"status": "ok"}


def test_liveness_answers_only_get(api):
    assert api.post("/health/", {}).status_code == 405


def test_readiness_reports_each_dependency_with_its_latency(api):
    response = api.get("/health/ready")

    assert response.status_code == 200
    payload = body(response)
    assert payload["status"] == "ok"
    assert set(payload["checks"]) == {"database", "cache"}  # the broker is eager in tests
    for check in payload["checks"].values():
        assert check["ok"] is True
        assert isinstance(check["latencyMs"], int | float)
        assert check["latencyMs"] >= 0
        assert "error" not in check


def test_readiness_is_503_when_the_cache_is_unreachable(api):
    dead_redis = f"redis://127.0.0.1:{unused_port()}/0"
    caches = {"default": {"BACKEND": "tessera.core.cache.PooledRedisCache", "LOCATION": dead_redis}}
    with override_settings(CACHES=caches):
        response = api.get("/health/ready")

    assert response.status_code == 503
    payload = body(response)
    assert payload["status"] == "unavailable"
    assert payload["checks"]["database"]["ok"] is True
    cache = payload["checks"]["cache"]
    assert cache["ok"] is False
    assert cache["error"].startswith("ConnectionError: ")
    assert isinstance(cache["latencyMs"], int | float)


@pytest.mark.slow
def test_readiness_is_503_when_the_database_is_unreachable(tmp_path):
    # A fresh process whose database is a PostgreSQL address nothing listens on.
    script = textwrap.dedent(
        """
        import django
        django.setup()
        from django.test import Client
        from django.test.utils import setup_test_environment
        setup_test_environment()
        response = Client().get("/health/ready")
        print(response.status_code)
        print(response.content.decode())
        """
    )
    env = {
        "PATH": os.environ.get("PATH", "/usr/bin:/bin"),
        "DJANGO_SETTINGS_MODULE": "config.settings.test",
        "TEST_DATABASE_URL": f"postgres://tessera:unused@127.0.0.1:{unused_port()}/tessera",
        "TESSERA_VAR_DIR": str(tmp_path),
    }
    result = subprocess.run(  # noqa: S603 - our own interpreter and script
        [sys.executable, "-c", script],
        cwd=settings.BASE_DIR,
        env=env,
        capture_output=True,
        text=True,
        timeout=60,
        check=False,
    )

    assert result.returncode == 0, result.stderr
    status, reply = result.stdout.strip().splitlines()[-2:]
    assert status == "503"
    payload = orjson.loads(reply)
    assert payload["status"] == "unavailable"
    assert payload["checks"]["cache"]["ok"] is True
    assert payload["checks"]["database"]["ok"] is False
    assert payload["checks"]["database"]["error"].startswith("OperationalError: ")


# --- /metrics ---------------------------------------------------------------------------------


def test_metrics_are_refused_to_an_address_not_on_the_list(api):
    response = api.get("/metrics", REMOTE_ADDR="198.51.100.20")

    assert response.status_code == 403
    payload = body(response)
    assert payload["status"] == "error"
    assert payload["error"]["code"] == "permission_denied"
    assert payload["error"]["message"] == "Metrics are not available to this client."
    assert payload["error"]["requestId"] == response["X-Request-ID"]


def test_metrics_are_served_to_a_listed_address(api):
    api.get("/api/ping")

    response = api.get("/metrics", REMOTE_ADDR="127.0.0.1")

    assert response.status_code == 200
    assert response["Content-Type"].startswith("text/plain")
    assert b"tessera_http_request_duration_seconds_bucket" in response.content


REQUEST_COUNT = "tessera_http_request_duration_seconds_count"


def test_a_made_up_method_is_counted_as_other_not_as_a_new_series(api):
    for method in ("BREW", "WHEN", "BREW"):
        api.generic(method, "/api/ping")
    api.get("/api/ping")

    text = api.get("/metrics", REMOTE_ADDR="127.0.0.1").content.decode()

    counts = [line for line in text.splitlines() if line.startswith(REQUEST_COUNT)]
    assert not [line for line in counts if "BREW" in line or "WHEN" in line]
    other = next(line for line in counts if 'method="OTHER"' in line)
    assert float(other.rsplit(" ", 1)[1]) >= 3
    assert any('method="GET"' in line for line in counts)


@override_settings(METRICS_TOKEN="scrape-token-0123456789")
def test_metrics_are_served_to_the_metrics_token_from_anywhere(api):
    response = api.get(
        "/metrics",
        REMOTE_ADDR="198.51.100.20",
        HTTP_AUTHORIZATION="Bearer scrape-token-0123456789",
    )

    assert response.status_code == 200
    assert b"tessera_http_request_duration_seconds" in response.content


@override_settings(METRICS_TOKEN="scrape-token-0123456789")
@pytest.mark.parametrize(
    "header", ["Bearer wrong-token", "scrape-token-0123456789", "Bearer scrape-token-012345678"]
)
def test_metrics_refuse_a_wrong_token(api, header):
    response = api.get("/metrics", REMOTE_ADDR="198.51.100.20", HTTP_AUTHORIZATION=header)

    assert response.status_code == 403


@override_settings(METRICS_TOKEN="")
def test_an_empty_metrics_token_grants_nothing(api):
    response = api.get("/metrics", REMOTE_ADDR="198.51.100.20", HTTP_AUTHORIZATION="Bearer ")

    assert response.status_code == 403


@override_settings(METRICS_ENABLED=False)
def test_metrics_switched_off_are_refused_to_everyone(api):
    assert api.get("/metrics", REMOTE_ADDR="127.0.0.1").status_code == 403


def test_the_root_names_the_api_and_links_its_parts(api):
    response = api.get("/")

    assert response.status_code == 200
    data = response.json()["data"]
    assert data["name"] == "Tessera"
    assert data["links"]["docs"] == "/api/docs"
    assert data["links"]["websiteData"] == "/api/website-data/"
