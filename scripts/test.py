"""`make test`: quality gates, then the test lanes.

Lanes: SQLite (always), PostgreSQL (when reachable: TEST_DATABASE_URL, default
postgresql://postgres@127.0.0.1:5432/tessera). Redis and RabbitMQ tests run inside the
SQLite lane through their fixtures. A lane or test whose server is unreachable is reported
as skipped with one line naming it, except with CI=true, where it fails the run. A lane that
runs no test fails.
"""

from __future__ import annotations

import os
import socket
import subprocess
import sys
import time
from pathlib import Path
from urllib.parse import urlparse
from xml.etree import ElementTree

ROOT = Path(__file__).resolve().parent.parent
BIN = ROOT / ".venv" / "bin"
IN_CI = os.environ.get("CI", "").lower() in {"1", "true", "yes"}
DEFAULT_PG = "postgresql://postgres@127.0.0.1:5432/tessera"
WORKERS = os.environ.get("TEST_WORKERS", "2")


def reachable(url: str, default_port: int) -> bool:
    parsed = urlparse(url)
    try:
        with socket.create_connection(
            (parsed.hostname or "127.0.0.1", parsed.port or default_port), timeout=1
        ):
            return True
    except OSError:
        return False


def run(title: str, command: list[str], env: dict[str, str] | None = None) -> int:
    print(f"\n=== {title}: {' '.join(command)}", flush=True)
    started = time.monotonic()
    code = subprocess.call(command, cwd=ROOT, env={**os.environ, **(env or {})})
    print(f"=== {title}: exit {code} in {time.monotonic() - started:.1f}s", flush=True)
    return code


def run_gates(env: dict[str, str]) -> list[str]:
    failed: list[str] = []
    gates = [
        ("ruff", [str(BIN / "ruff"), "check", "."]),
        ("ruff format", [str(BIN / "ruff"), "format", "--check", "--quiet", "."]),
        ("mypy", [str(BIN / "mypy"), "."]),
        ("import contracts", [str(BIN / "lint-imports"), "--no-cache"]),
        (
            "migrations",
            [str(BIN / "python"), "manage.py", "makemigrations", "--check", "--dry-run"],
        ),
        # deploy/: compose, .env.example, hadolint, nginx -t, alerts, bandit, pip-audit.
        ("deployment checks", [str(BIN / "python"), "scripts/deploy_checks.py"]),
    ]
    for title, command in gates:
        if run(title, command, env) != 0:
            failed.append(title)
    return failed


def unreachable_service_notes() -> list[str]:
    notes = []
    for name, url, port in (
        ("Redis", os.environ.get("TEST_REDIS_URL", "redis://127.0.0.1:6379/15"), 6379),
        ("RabbitMQ", os.environ.get("TEST_BROKER_URL", "amqp://guest@127.0.0.1:5672//"), 5672),
    ):
        if not reachable(url, port):
            notes.append(f"{name} tests skipped: no server at {url}")

    return notes


def main() -> int:
    base_env = {"DJANGO_SETTINGS_MODULE": "config.settings.test"}
    failures: list[str] = []
    notes: list[str] = []

    failures += run_gates(base_env)

    pytest = [str(BIN / "python"), "-m", "pytest", "-q", "-n", WORKERS]
    reports = ROOT / "var" / "test-reports"
    reports.mkdir(parents=True, exist_ok=True)
    for stale in reports.glob("*.xml"):
        stale.unlink()
    sqlite_code = run(
        "tests on SQLite",
        [*pytest, f"--junitxml={reports / 'sqlite.xml'}"],
        {**base_env, "TEST_DATABASE_URL": ""},
    )
    if sqlite_code != 0:
        failures.append(f"SQLite lane (pytest exit {sqlite_code})")

    pg_url = os.environ.get("TEST_DATABASE_URL") or DEFAULT_PG
    if reachable(pg_url, 5432):
        pg_code = run(
            "tests on PostgreSQL",
            [
                *pytest,
                "-m",
                "not redis and not broker and not slow",
                f"--junitxml={reports / 'postgresql.xml'}",
            ],
            {**base_env, "TEST_DATABASE_URL": pg_url},
        )
        if pg_code != 0:
            failures.append(f"PostgreSQL lane (pytest exit {pg_code})")
    else:
        line = f"PostgreSQL lane skipped: no server at {pg_url} (set TEST_DATABASE_URL)"
        if IN_CI:
            failures.append(line + " [required with CI=true]")
        else:
            notes.append(line)

    notes += unreachable_service_notes()

    passed, failed, skipped = totals(reports)
    if passed + failed == 0:
        failures.append("no test ran")
    print()
    for note in notes:
        print(f"SKIPPED: {note}")
    if failures:
        print("FAILED: " + "; ".join(failures))
    else:
        print("All gates and lanes passed.")
    # The plain closing line CI reads, summed over the lanes.
    print(f"{passed} passed, {failed} failed, {skipped} skipped")
    return 1 if failures else 0


def totals(reports: Path) -> tuple[int, int, int]:
    passed = failed = skipped = 0
    for report in reports.glob("*.xml"):
        for suite in ElementTree.parse(report).getroot().iter("testsuite"):  # noqa: S314
            tests = int(suite.get("tests", 0))
            bad = int(suite.get("failures", 0)) + int(suite.get("errors", 0))
            skips = int(suite.get("skipped", 0))
            passed += tests - bad - skips
            failed += bad
            skipped += skips
    return passed, failed, skipped


if __name__ == "__main__":
    sys.exit(main())
