"""No credential reaches a log (issue 13, item 22): every kind of credential the API takes is
sent with a wrong scheme or a wrong value, with every logger at DEBUG (but Django's SQL
trace) and `DEBUG = True` (where django-ninja used to log the whole `Authorization` header at
ERROR), and all the log output captured — records, the project's own formatter, stdout and
stderr — is searched for each secret."""

from __future__ import annotations

import base64
import io
import logging
from collections.abc import Iterator
from typing import Any

import pytest

from tests.fixtures import ApiClient

pytestmark = pytest.mark.django_db

# Each secret is distinct, so that a hit names what leaked.
SECRET = {
    "basic": "basic-pw-6f1d2c",
    "token_scheme": "tokscheme6f1d2c77aa",
    "jwt_scheme": "jwtscheme6f1d2c88bb",
    "bare": "bareheader6f1d2c99cc",
    "bearer": "eyJhbGciOiJIUzI1NiJ9.eyJzdWIiOiJmb3JnZWQtNmYxZDJjIn0.Zm9yZ2VkLXNpZy02ZjFkMmM",
    "metrics": "metrics-token-6f1d2c",
    "session": "sessionkey6f1d2cdd",
    "csrf": "csrfvalue6f1d2cee",
    "password": "login-pw-6f1d2c",
    "current_password": "current-pw-6f1d2c",
    "new_password": "new-pw-6f1d2c-Long!",
    "refresh": "refresh-6f1d2c",
    "reset": "reset-token-6f1d2c",
    "otp": "615243",
    "email_code": "724135",
    "oauth_code": "oauth-code-6f1d2c",
    "oauth_state": "oauth-state-6f1d2c",
    "provider_token": "provider-token-6f1d2c",
    "private_link": "private-link-6f1d2c",
    "upload_link": "upload-link-6f1d2c",
}
BASIC = base64.b64encode(f"ada@example.com:{SECRET['basic']}".encode()).decode()


@pytest.fixture
def all_logs(settings: Any, caplog: pytest.LogCaptureFixture) -> Iterator[io.StringIO]:
    """Every logger at DEBUG, DEBUG on, and the project's formatter writing to a buffer."""
    settings.DEBUG = True
    settings.RATE_LIMIT_ENABLED = False
    settings.METRICS_ALLOWED_IPS = []
    settings.METRICS_TOKEN = "the-metrics-token-is-another"
    root = logging.getLogger()
    formatter = next(h.formatter for h in root.handlers if h.formatter is not None)
    buffer = io.StringIO()
    rendered = logging.StreamHandler(buffer)
    rendered.setFormatter(formatter)
    named = [logging.getLogger(name) for name in ("django", "django.request", "tessera.access")]
    # Except Django's SQL trace: with DEBUG on it prints every query with its parameters,
    # by design, for a developer at a console (production refuses DEBUG, so it never runs).
    sql = logging.getLogger("django.db.backends")
    levels = [(logger, logger.level) for logger in [root, *named, sql]]
    for logger, _level in levels:
        logger.setLevel(logging.DEBUG)
    sql.setLevel(logging.INFO)
    root.addHandler(rendered)
    caplog.set_level(logging.DEBUG)
    try:
        yield buffer
    finally:
        root.removeHandler(rendered)
        for logger, level in levels:
            logger.setLevel(level)


def _send_every_credential(user: Any) -> list[int]:
    """Each credential the API takes, wrong; the statuses it got (a client made now, so its
    middleware sees the access log enabled)."""
    api = ApiClient()
    statuses = []
    for header in (
        f"Basic {BASIC}",
        f"Token {SECRET['token_scheme']}",
        f"JWT {SECRET['jwt_scheme']}",
        SECRET["bare"],
        f"Bearer {SECRET['bearer']}",
        f"bearer {SECRET['bearer']}",
    ):
        statuses.append(api.get("/api/auth/me", HTTP_AUTHORIZATION=header).status_code)
        statuses.append(api.get("/api/capsules", HTTP_AUTHORIZATION=header).status_code)
    for header in (f"Bearer {SECRET['metrics']}", f"Basic {BASIC}"):
        statuses.append(api.get("/metrics", HTTP_AUTHORIZATION=header).status_code)
    api.cookies["sessionid"] = SECRET["session"]
    api.cookies["csrftoken"] = SECRET["csrf"]
    statuses.append(api.post("/api/update-redis/", {}, HTTP_X_CSRFTOKEN=SECRET["csrf"]).status_code)
    api.cookies.clear()
    posts = [
        ("/api/auth/login", {"email": user.email, "password": SECRET["password"]}),
        ("/api/auth/login", {"email": "nobody@example.com", "password": SECRET["password"]}),
        ("/api/auth/refresh", {"refreshToken": SECRET["refresh"]}),
        ("/api/auth/logout", {"refreshToken": SECRET["refresh"]}),
        (
            "/api/auth/password/reset",
            {"token": SECRET["reset"], "newPassword": SECRET["new_password"]},
        ),
        ("/api/auth/verify-otp", {"phoneNumber": "+27821234567", "otpCode": SECRET["otp"]}),
        ("/api/auth/verify-email", {"email": user.email, "code": SECRET["email_code"]}),
        (
            "/api/auth/oauth/github/callback",
            {"code": SECRET["oauth_code"], "state": SECRET["oauth_state"]},
        ),
        (
            "/api/auth/oauth/github/token",
            {"accessToken": SECRET["provider_token"], "redirectUri": "https://x.example/cb"},
        ),
        # A body field that is not taken, named like a secret: refused by name, not by value.
        ("/api/auth/password/forgot", {"email": user.email, "password": SECRET["password"]}),
    ]
    statuses += [api.post(path, payload).status_code for path, payload in posts]
    signed_in = ApiClient(token=_token(user))
    statuses.append(
        signed_in.post(
            "/api/auth/password/change",
            {"currentPassword": SECRET["current_password"], "newPassword": SECRET["new_password"]},
        ).status_code
    )
    statuses.append(api.get(f"/files/private/{SECRET['private_link']}").status_code)
    statuses.append(
        api.put(
            f"/files/uploads/{SECRET['upload_link']}", b"x", content_type="image/png"
        ).status_code
    )
    return statuses


def _token(user: Any) -> str:
    from tessera.accounts.tokens import access_token_issue

    return access_token_issue(user=user)


def _everything_logged(caplog: pytest.LogCaptureFixture, buffer: io.StringIO, captured: Any) -> str:
    records = [f"{record.getMessage()} {record.msg!r} {record.args!r}" for record in caplog.records]
    return "\n".join([caplog.text, *records, buffer.getvalue(), captured.out, captured.err])


def test_no_credential_sent_wrong_is_logged(
    all_logs: io.StringIO,
    caplog: pytest.LogCaptureFixture,
    capfd: pytest.CaptureFixture[str],
    user: Any,
) -> None:
    statuses = _send_every_credential(user)
    logged = _everything_logged(caplog, all_logs, capfd.readouterr())

    # Each refused (202: a reset for an address asked with a field it does not take).
    assert [s for s in statuses if not 400 <= s < 500] == [], statuses
    # The logs were captured (an access line per request, at least).
    assert logged.count("/api/auth/me") >= 6
    leaked = [name for name, secret in SECRET.items() if secret in logged]
    assert leaked == []
    assert BASIC not in logged
    assert "Unexpected auth" not in logged  # django-ninja's line is not written at all


def test_a_credential_logged_by_any_library_is_redacted_before_any_handler_sees_it(
    all_logs: io.StringIO, caplog: pytest.LogCaptureFixture, capfd: pytest.CaptureFixture[str]
) -> None:
    import structlog

    logging.getLogger("django").error("Unexpected auth - '%s'", f"Basic {BASIC}")
    logging.getLogger("somelib").warning(
        "retrying with headers %s", {"Authorization": f"Bearer {SECRET['bearer']}", "Accept": "*/*"}
    )
    # Libraries that format their own messages.
    logging.getLogger("somelib").info(f"Cookie: sessionid={SECRET['session']}; lang=ar")  # noqa: G004
    logging.getLogger("somelib").info(f"POST body password={SECRET['password']}&email=a")  # noqa: G004
    structlog.get_logger("tessera.test").warning(
        "login_failed", password=SECRET["password"], refresh_token=SECRET["refresh"], tokens=3
    )
    logged = _everything_logged(caplog, all_logs, capfd.readouterr())

    assert [name for name, secret in SECRET.items() if secret in logged] == []
    assert BASIC not in logged
    assert "Unexpected auth - 'Basic [redacted]'" in logged
    assert "'Accept': '*/*'" in logged  # what is not a secret stays readable
    assert "lang=ar" not in logged  # a cookie header is dropped whole
    assert "email=a" in logged
    assert "login_failed" in logged
    assert "'tokens': 3" in logged  # a count is not a secret
