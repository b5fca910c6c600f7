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
    ],
)
def test_production_settings_refuse_to_load_misconfigured(tmp_path, env, complaint):
    result = import_prod(env, tmp_path)

    assert result.returncode != 0
    assert "django.core.exceptions.ImproperlyConfigured" in result.stderr
    assert complaint in result.stderr.strip().splitlines()[-1]


def _good_production_env() -> dict[str, str]:
    """What production needs besides the secret key and hosts: a payments gateway's keys
    (the sandbox, allowed, with its signing key) and the keys encrypting stored secrets."""
    from cryptography.fernet import Fernet
    from cryptography.hazmat.primitives import serialization
    from cryptography.hazmat.primitives.asymmetric import rsa

    pem = rsa.generate_private_key(public_exponent=65537, key_size=2048).private_bytes(
        serialization.Encoding.PEM, serialization.PrivateFormat.PKCS8, serialization.NoEncryption()
    )
    return {
        "DJANGO_SECRET_KEY": GOOD_SECRET,
        "DJANGO_ALLOWED_HOSTS": "example.com",
        "PAYMENTS_SANDBOX_ALLOWED": "true",
        "PAYMENTS_SANDBOX_PRIVATE_KEY": pem.decode(),
        "PAYMENTS_ENCRYPTION_KEYS": Fernet.generate_key().decode(),
        "EVENTS_KEY_ENCRYPTION_KEYS": "a-separate-secret-for-the-ticket-signing-keys",
    }


def test_production_settings_load_with_a_good_environment(tmp_path):
    result = import_prod(_good_production_env(), tmp_path)

    assert result.returncode == 0, result.stderr


def test_production_refuses_to_start_without_the_ticket_key_secret(tmp_path):
    env = _good_production_env()
    del env["EVENTS_KEY_ENCRYPTION_KEYS"]
    result = import_prod(env, tmp_path)
    assert result.returncode != 0
    assert "EVENTS_KEY_ENCRYPTION_KEYS" in result.stderr


def test_deploy_checks_pass_under_production_settings(tmp_path):
    result = run_python(
        ["manage.py", "check", "--deploy", "--fail-level", "WARNING"],
        {"DJANGO_SETTINGS_MODULE": "config.settings.prod", **_good_production_env()},
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


@pytest.mark.parametrize("value", ["0", "-1", "fast", "nan", "inf", "5000"])
def test_a_bad_switch_interval_stops_start_up_with_a_clear_message(tmp_path, value):
    result = run_python(
        ["-c", "import config.settings.dev"], {"SERVER_SWITCH_INTERVAL_MS": value}, tmp_path
    )
    assert result.returncode != 0
    assert "SERVER_SWITCH_INTERVAL_MS must be a number of milliseconds" in result.stderr
    assert repr(value) in result.stderr
