"""Production settings refuse to start misconfigured and pass Django's deployment checks."""

from __future__ import annotations

import os
import re
import secrets
import string
import subprocess
import sys
from pathlib import Path

import pytest
from django.conf import settings

pytestmark = pytest.mark.slow

GOOD_SECRET = "".join(secrets.choice(string.ascii_letters + string.digits) for _ in range(60))
# Payments in production: a real gateway and keys for bank details (tessera/payments).
GOOD_PAYMENTS = {
    "PAYMENTS_PROVIDER": "revio",
    "REVIO_API_KEY": "live-key",
    "REVIO_BRAND_ID": "brand",
    "REVIO_WEBHOOK_PUBLIC_KEY": "-----BEGIN PUBLIC KEY-----\\nMIIB\\n-----END PUBLIC KEY-----",
    "PAYMENTS_ENCRYPTION_KEYS": "ZmVybmV0LWtleS1vZi10aGlydHktdHdvLWJ5dGVzLSE=",
}
# Email and SMS that would really be delivered (nothing is sent while settings load).
REAL_DELIVERY = {
    "SENDGRID_API_KEY": "SG.test-key",
    "TWILIO_ACCOUNT_SID": "AC" + "0" * 32,
    "TWILIO_AUTH_TOKEN": "test-token",
}
# Events: the secret encrypting the hosts' ticket-signing keys (tessera/events).
GOOD_EVENTS = {"EVENTS_KEY_ENCRYPTION_KEYS": secrets.token_urlsafe(32)}
GOOD = {
    "DJANGO_SECRET_KEY": GOOD_SECRET,
    "DJANGO_ALLOWED_HOSTS": "example.com",
    **REAL_DELIVERY,
    **GOOD_PAYMENTS,
    **GOOD_EVENTS,
}


def run_python(
    args: list[str], env: dict[str, str], var_dir: Path
) -> subprocess.CompletedProcess[str]:
    # A clean environment: nothing from this shell or from pytest-django leaks in.
    clean = {
        "PATH": os.environ.get("PATH", "/usr/bin:/bin"),
        "TESSERA_VAR_DIR": str(var_dir),
        **env,
    }
    return subprocess.run(  # noqa: S603 - our own interpreter and project
        [sys.executable, *args],
        cwd=settings.BASE_DIR,
        env=clean,
        capture_output=True,
        text=True,
        timeout=120,
        check=False,
    )


def import_prod(env: dict[str, str], var_dir: Path) -> subprocess.CompletedProcess[str]:
    return run_python(["-c", "import config.settings.prod"], env, var_dir)


@pytest.mark.parametrize(
    ("env", "complaint"),
    [
        pytest.param({"DJANGO_ALLOWED_HOSTS": "example.com"}, "DJANGO_SECRET_KEY", id="no-secret"),
        pytest.param(
            {
                "DJANGO_SECRET_KEY": "insecure-dev-key-change-me",
                "DJANGO_ALLOWED_HOSTS": "example.com",
            },
            "DJANGO_SECRET_KEY",
            id="default-secret",
        ),
        pytest.param(
            {"DJANGO_SECRET_KEY": "short-secret", "DJANGO_ALLOWED_HOSTS": "example.com"},
            "DJANGO_SECRET_KEY",
            id="short-secret",
        ),
        pytest.param(
            {
                "DJANGO_SECRET_KEY": GOOD_SECRET,
                "DJANGO_ALLOWED_HOSTS": "example.com",
                "DJANGO_DEBUG": "true",
            },
            "DJANGO_DEBUG must be off",
            id="debug-on",
        ),
        pytest.param(
            {"DJANGO_SECRET_KEY": GOOD_SECRET}, "DJANGO_ALLOWED_HOSTS", id="no-allowed-hosts"
        ),
        pytest.param(
            {"DJANGO_SECRET_KEY": GOOD_SECRET, "DJANGO_ALLOWED_HOSTS": ""},
            "DJANGO_ALLOWED_HOSTS",
            id="empty-allowed-hosts",
        ),
        pytest.param(
            {**GOOD, **GOOD_PAYMENTS, "PAYMENTS_PROVIDER": "sandbox"},
            "PAYMENTS_PROVIDER is sandbox",
            id="sandbox-in-production",
        ),
        pytest.param(
            {
                **GOOD,
                **GOOD_PAYMENTS,
                "PAYMENTS_PROVIDER": "sandbox",
                "PAYMENTS_SANDBOX_ALLOWED": "true",
            },
            "PAYMENTS_SANDBOX_PRIVATE_KEY",
            id="sandbox-without-its-key",
        ),
        pytest.param(
            {**GOOD, **GOOD_PAYMENTS, "REVIO_WEBHOOK_PUBLIC_KEY": ""},
            "REVIO_WEBHOOK_PUBLIC_KEY",
            id="revio-without-its-webhook-key",
        ),
        pytest.param(
            {**GOOD, **GOOD_PAYMENTS, "PAYMENTS_ENCRYPTION_KEYS": ""},
            "PAYMENTS_ENCRYPTION_KEYS",
            id="no-encryption-keys",
        ),
    ],
)
def test_production_settings_refuse_to_load_misconfigured(tmp_path, env, complaint):
    result = import_prod(env, tmp_path)

    assert result.returncode != 0
    assert "django.core.exceptions.ImproperlyConfigured" in result.stderr
    assert complaint in result.stderr.strip().splitlines()[-1]


def test_production_settings_load_with_a_good_environment(tmp_path):
    result = import_prod(GOOD, tmp_path)

    assert result.returncode == 0, result.stderr


def last_line(result: subprocess.CompletedProcess[str]) -> str:
    assert result.returncode != 0
    assert "django.core.exceptions.ImproperlyConfigured" in result.stderr
    return result.stderr.strip().splitlines()[-1]


@pytest.mark.parametrize(
    ("secret", "complaint"),
    [
        pytest.param("a" * 60, "only 1 different characters", id="one-letter"),
        pytest.param("changeme" * 8, "only 7 different characters", id="changeme"),
        pytest.param("abcdefghij" * 6, "repeats a short pattern", id="pattern"),
        pytest.param(
            "django-insecure-" + GOOD_SECRET, "starts with 'django-insecure-'", id="insecure-prefix"
        ),
        pytest.param(
            "insecure-development-key-set-DJANGO_SECRET_KEY-in-production",
            "is the development default",
            id="dev-default",
        ),
    ],
)
def test_production_refuses_a_guessable_secret_key(tmp_path, secret, complaint):
    result = import_prod({**GOOD, "DJANGO_SECRET_KEY": secret}, tmp_path)

    line = last_line(result)
    assert line.startswith("django.core.exceptions.ImproperlyConfigured: DJANGO_SECRET_KEY ")
    assert complaint in line
    assert secret not in result.stderr  # the value itself is never printed


@pytest.mark.parametrize(
    ("keys", "complaint"),
    [
        pytest.param("k1=secret", "key 'k1' is 6 bytes long; at least 32", id="short"),
        pytest.param(f"k1={GOOD_SECRET},k2={'x' * 40}", "key 'k2' has low entropy", id="one-weak"),
        pytest.param(f"k1={'ab' * 20}", "key 'k1' has low entropy", id="low-entropy"),
    ],
)
def test_production_refuses_weak_jwt_signing_keys(tmp_path, keys, complaint):
    result = import_prod({**GOOD, "JWT_SIGNING_KEYS": keys}, tmp_path)

    line = last_line(result)
    assert "JWT_SIGNING_KEYS" in line
    assert complaint in line


def test_production_refuses_an_active_jwt_key_id_that_is_not_listed(tmp_path):
    result = import_prod(
        {**GOOD, "JWT_SIGNING_KEYS": f"k1={GOOD_SECRET}", "JWT_ACTIVE_KEY_ID": "k9"}, tmp_path
    )

    assert "JWT_ACTIVE_KEY_ID 'k9' is not one of the JWT_SIGNING_KEYS key ids (k1)" in last_line(
        result
    )


def test_production_accepts_strong_rotated_jwt_keys(tmp_path):
    other = secrets.token_hex(16)  # 32 hex digits: the shortest key accepted
    result = import_prod(
        {**GOOD, "JWT_SIGNING_KEYS": f"old={GOOD_SECRET},new={other}", "JWT_ACTIVE_KEY_ID": "new"},
        tmp_path,
    )

    assert result.returncode == 0, result.stderr


@pytest.mark.parametrize(
    ("env", "complaint"),
    [
        pytest.param({"SENDGRID_API_KEY": ""}, "EMAIL_BACKEND is django.core.mail", id="email"),
        pytest.param(
            {
                "EMAIL_BACKEND": "django.core.mail.backends.filebased.EmailBackend",
                "SENDGRID_API_KEY": "",
            },
            "EMAIL_BACKEND is django.core.mail.backends.filebased",
            id="email-file",
        ),
        pytest.param({"TWILIO_ACCOUNT_SID": ""}, "SMS_BACKEND is 'console'", id="sms"),
        pytest.param({"SMS_BACKEND": "file"}, "SMS_BACKEND is 'file'", id="sms-file"),
    ],
)
def test_production_refuses_console_delivery_unless_allowed(tmp_path, env, complaint):
    refused = import_prod({**GOOD, **env}, tmp_path)
    allowed = import_prod({**GOOD, **env, "ALLOW_CONSOLE_DELIVERY": "true"}, tmp_path)

    line = last_line(refused)
    assert complaint in line
    assert "ALLOW_CONSOLE_DELIVERY=true" in line
    assert allowed.returncode == 0, allowed.stderr


def test_production_refuses_to_start_without_the_ticket_key_secret(tmp_path):
    env = dict(GOOD)
    del env["EVENTS_KEY_ENCRYPTION_KEYS"]

    result = import_prod(env, tmp_path)

    assert "EVENTS_KEY_ENCRYPTION_KEYS" in last_line(result)


def test_deploy_checks_pass_under_production_settings(tmp_path):
    result = run_python(
        ["manage.py", "check", "--deploy", "--fail-level", "WARNING"],
        {
            "DJANGO_SETTINGS_MODULE": "config.settings.prod",
            "DJANGO_SECRET_KEY": GOOD_SECRET,
            "DJANGO_ALLOWED_HOSTS": "example.com",
            # Console delivery: anymail warns about SendGrid itself (anymail.W003), which is
            # not one of Django's deployment checks.
            "ALLOW_CONSOLE_DELIVERY": "true",
            "AUTH_FRONTEND_URL": "https://example.com",
            **GOOD_PAYMENTS,
            **GOOD_EVENTS,
        },
        tmp_path,
    )

    output = result.stdout + result.stderr
    reported = set(re.findall(r"\(([a-z_.]+\.[EW]\d{3})\)", output))
    assert reported == set(), output
    assert result.returncode == 0, output
    assert "System check identified no issues" in output


SWITCH_INTERVAL = "import sys; {imports}; print(sys.getswitchinterval())"


def switch_interval_after(imports: str, env: dict[str, str], var_dir: Path) -> float:
    result = run_python(
        ["-c", SWITCH_INTERVAL.format(imports=imports)],
        {"DJANGO_SETTINGS_MODULE": "config.settings.dev", **env},
        var_dir,
    )
    assert result.returncode == 0, result.stderr
    return float(result.stdout.strip())


def test_the_web_server_entry_point_shortens_the_thread_switch_interval(tmp_path):
    # CPython's default is 5 ms; only the processes that serve config.wsgi change it.
    assert switch_interval_after("import config.wsgi", {}, tmp_path) == pytest.approx(0.0002)
    assert switch_interval_after(
        "import config.wsgi", {"SERVER_SWITCH_INTERVAL_MS": "2"}, tmp_path
    ) == pytest.approx(0.002)
    assert switch_interval_after("import django; django.setup()", {}, tmp_path) == 0.005


def test_the_web_server_entry_point_freezes_what_it_loaded(tmp_path):
    # Frozen objects are out of the collector's full passes (decision 0041).
    def frozen_after(imports: str) -> int:
        result = run_python(
            ["-c", f"import gc; {imports}; print(gc.get_freeze_count())"],
            {"DJANGO_SETTINGS_MODULE": "config.settings.dev"},
            tmp_path,
        )
        assert result.returncode == 0, result.stderr
        return int(result.stdout.strip())

    assert frozen_after("import config.wsgi") > 100_000
    assert frozen_after("import django; django.setup()") == 0


def test_the_web_server_entry_point_loads_the_urlconf_before_it_serves(tmp_path):
    # Not on the first request, and frozen with the rest (decision 0042).
    result = run_python(
        [
            "-c",
            (
                "import sys, gc; import config.wsgi; "
                "print('config.urls' in sys.modules, 'tessera.payments.urls' in sys.modules, "
                "any(type(o).__name__ == 'NinjaAPI' for o in gc.get_objects()))"
            ),
        ],
        {"DJANGO_SETTINGS_MODULE": "config.settings.dev"},
        tmp_path,
    )
    assert result.returncode == 0, result.stderr
    # Loaded, and none of it left outside the freeze (gc.get_objects skips frozen objects).
    assert result.stdout.split() == ["True", "True", "False"]


@pytest.mark.parametrize("value", ["0", "-1", "fast", "nan", "inf", "5000"])
def test_a_bad_switch_interval_stops_start_up_with_a_clear_message(tmp_path, value):
    result = run_python(
        ["-c", "import config.settings.dev"], {"SERVER_SWITCH_INTERVAL_MS": value}, tmp_path
    )
    assert result.returncode != 0
    assert "SERVER_SWITCH_INTERVAL_MS must be a number of milliseconds" in result.stderr
    assert repr(value) in result.stderr


@pytest.mark.parametrize(
    ("env", "expected"),
    [
        pytest.param({}, "True True", id="default-on"),
        pytest.param({"REQUEST_RATE_LIMITS_ENABLED": "false"}, "False False", id="new-name"),
        pytest.param({"RATE_LIMIT_ENABLED": "false"}, "False False", id="old-name-still-read"),
        pytest.param(
            {"RATE_LIMIT_ENABLED": "false", "REQUEST_RATE_LIMITS_ENABLED": "true"},
            "True True",
            id="new-name-wins",
        ),
    ],
)
def test_the_request_rate_limit_switch_reads_its_new_and_its_old_name(tmp_path, env, expected):
    program = (
        "import config.settings.dev as s; "
        "print(s.REQUEST_RATE_LIMITS_ENABLED, s.RATE_LIMIT_ENABLED)"
    )
    result = run_python(["-c", program], env, tmp_path)

    assert result.returncode == 0, result.stderr
    assert result.stdout.strip() == expected


def test_metrics_read_the_depth_of_the_queue_tasks_go_to(tmp_path):
    def queues(env: dict[str, str]) -> str:
        result = run_python(
            ["-c", "import config.settings.dev as s; print(s.METRICS_QUEUES)"], env, tmp_path
        )
        assert result.returncode == 0, result.stderr
        return result.stdout.strip()

    assert queues({}) == "['celery']"
    assert queues({"CELERY_TASK_DEFAULT_QUEUE": "shop"}) == "['shop']"
    assert queues({"CELERY_TASK_DEFAULT_QUEUE": "shop", "METRICS_QUEUES": "a,b"}) == "['a', 'b']"
