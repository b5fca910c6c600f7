"""Security headers, CORS and the self-hosted API docs."""

from __future__ import annotations

import re

import pytest
from django.conf import settings
from django.test import override_settings

pytestmark = [pytest.mark.urls("tessera.core.tests.urls"), pytest.mark.django_db]

APP_ORIGIN = "https://app.example.com"


@pytest.mark.parametrize(
    ("method", "path", "status"),
    [
        ("get", "/api/ping", 200),
        ("get", "/api/no/such/route", 404),
        ("put", "/api/ping", 405),
        ("get", "/api/_test/errors/crash", 500),
        ("get", "/api/_test/whoami", 401),
        ("get", "/health/", 200),
        ("get", "/metrics", 200),
        ("get", "/admin/login/", 200),
        ("get", "/api/docs", 200),
        ("get", "/", 200),
    ],
)
def test_nosniff_and_referrer_policy_are_on_every_reply(api, method, path, status):
    response = getattr(api, method)(path)

    assert response.status_code == status
    assert response["X-Content-Type-Options"] == "nosniff"
    assert response["Referrer-Policy"] == "strict-origin-when-cross-origin"
    assert response["Cross-Origin-Opener-Policy"] == "same-origin"


@override_settings(RATE_LIMIT_DEFAULT="1/minute")
def test_a_rate_limited_reply_carries_the_security_headers(api, fresh_limiter):
    api.get("/api/ping")

    refused = api.get("/api/ping")

    assert refused.status_code == 429
    assert refused["X-Content-Type-Options"] == "nosniff"


@pytest.mark.parametrize("path", ["/admin/login/", "/api/docs"])
def test_html_pages_have_a_content_security_policy(api, path):
    response = api.get(path)

    assert response.status_code == 200
    assert response["Content-Security-Policy"] == settings.CONTENT_SECURITY_POLICY
    assert "script-src 'self'" in response["Content-Security-Policy"]
    assert "frame-ancestors 'none'" in response["Content-Security-Policy"]


def test_json_replies_carry_no_content_security_policy(api):
    assert "Content-Security-Policy" not in api.get("/api/ping")


def test_the_admin_cannot_be_framed(api):
    assert api.get("/admin/login/")["X-Frame-Options"] == "DENY"


def test_the_api_sets_no_cookies(api):
    response = api.get("/api/ping")

    assert response.cookies == {}
    assert "Set-Cookie" not in response


# --- CORS -------------------------------------------------------------------------------------


@override_settings(CORS_ALLOWED_ORIGINS=[APP_ORIGIN])
def test_an_allowed_origin_may_read_api_replies_and_their_headers(api):
    response = api.get("/api/ping", HTTP_ORIGIN=APP_ORIGIN)

    assert response["Access-Control-Allow-Origin"] == APP_ORIGIN
    exposed = {
        name.strip().lower() for name in response["Access-Control-Expose-Headers"].split(",")
    }
    assert exposed == {"x-request-id", "retry-after", "idempotent-replayed"}


@override_settings(CORS_ALLOWED_ORIGINS=[APP_ORIGIN])
def test_an_allowed_origin_passes_the_preflight_with_bearer_and_idempotency_key(api):
    response = api.options(
        "/api/_test/notes",
        HTTP_ORIGIN=APP_ORIGIN,
        HTTP_ACCESS_CONTROL_REQUEST_METHOD="POST",
        HTTP_ACCESS_CONTROL_REQUEST_HEADERS="authorization, content-type, idempotency-key",
    )

    assert response.status_code == 200
    assert response["Access-Control-Allow-Origin"] == APP_ORIGIN
    allowed = {name.strip() for name in response["Access-Control-Allow-Headers"].split(",")}
    assert {"authorization", "content-type", "idempotency-key"} <= allowed
    assert "POST" in response["Access-Control-Allow-Methods"]


@override_settings(CORS_ALLOWED_ORIGINS=[APP_ORIGIN])
@pytest.mark.parametrize(
    "origin",
    ["https://evil.example.com", "http://app.example.com", "https://app.example.com.evil.io"],
)
def test_any_other_origin_gets_no_cors_grant(api, origin):
    simple = api.get("/api/ping", HTTP_ORIGIN=origin)
    preflight = api.options(
        "/api/ping", HTTP_ORIGIN=origin, HTTP_ACCESS_CONTROL_REQUEST_METHOD="GET"
    )

    assert "Access-Control-Allow-Origin" not in simple
    assert "Access-Control-Allow-Origin" not in preflight


@override_settings(CORS_ALLOWED_ORIGINS=[APP_ORIGIN])
def test_cors_is_not_granted_outside_the_api(api):
    response = api.get("/health/", HTTP_ORIGIN=APP_ORIGIN)

    assert "Access-Control-Allow-Origin" not in response


# --- API docs ---------------------------------------------------------------------------------


def test_swagger_is_served_from_local_static_files(api):
    response = api.get("/api/docs")

    assert response.status_code == 200
    assert response["Content-Type"].startswith("text/html")
    html = response.content.decode()
    assert "https://" not in html
    assert "http://" not in html
    assert "cdn" not in html.lower()
    assets = re.findall(r'(?:src|href)="([^"]+)"', html)
    assert "/static/ninja/swagger-ui-bundle.js" in assets
    assert "/static/ninja/swagger-ui.css" in assets
    assert all(asset.startswith("/static/") for asset in assets)
    assert '"url": "/api/openapi.json"' in html


@pytest.mark.parametrize(
    "asset",
    [
        "/static/ninja/swagger-ui-bundle.js",
        "/static/ninja/swagger-ui-init.js",
        "/static/ninja/swagger-ui.css",
    ],
)
def test_the_swagger_assets_are_served(api, asset):
    response = api.get(asset)

    assert response.status_code == 200
    assert b"".join(response.streaming_content)
