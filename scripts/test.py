"""`make test`: quality gates, then the test lanes (docs/decisions/0015-test-lanes.md).

Lanes:

1. **SQLite** — the embedded default: a SQLite file, the in-process cache. Every test except
   those marked `postgres`, the slow end-to-end ones (`make run`, the README's examples,
   schemathesis, the browser) included. Tests marked `redis` or `broker` run here only when
   lane 2 cannot run.
2. **PostgreSQL + Redis + RabbitMQ** — as production runs: PostgreSQL, the default cache on
   Redis (so the edge, the near cache, page caches and rate-limit counters are Redis's),
   and the `redis`/`broker` tests against the real servers. Every test except the slow ones,
   but for those marked `services_e2e` (the README's examples, the wallet in a browser):
   their `make run` runs here on PostgreSQL (a scratch database of its own), Redis and
   RabbitMQ, with real workers (tests/system.py `services_setup`).
   When Redis is unreachable (and CI is not set) it runs on PostgreSQL alone and says so.

Every lane uses the tests' own names on the servers, never a developer's data:
`TEST_DATABASE_URL` (default `postgresql://postgres@127.0.0.1:5432/tessera_test`; Django
creates `test_tessera_test` and one copy per xdist worker), `TEST_REDIS_URL` (default index
12, where each test process keeps a key prefix of its own) and `TEST_BROKER_URL` (default
vhost `tessera_test`, which `.ci/run` creates). Each may be overridden.

A lane or test whose server is unreachable is reported as skipped with one line naming it,
except with CI=true, where it fails the run. A lane that runs no test fails.
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
DEFAULT_PG = "postgresql://postgres@127.0.0.1:5432/tessera_test"
DEFAULT_REDIS = "redis://127.0.0.1:6379/12"
DEFAULT_BROKER = "amqp://guest:guest@127.0.0.1:5672/tessera_test"
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


def missing(name: str, url: str, variable: str, notes: list[str], failures: list[str]) -> None:
    line = f"{name}: no server at {url} (set {variable})"
    if IN_CI:
        failures.append(line + " [required with CI=true]")
    else:
        notes.append(line)


def main() -> int:
    base_env = {"DJANGO_SETTINGS_MODULE": "config.settings.test"}
    failures: list[str] = []
    notes: list[str] = []

    # The gates touch no server: the migration check reads the SQLite test settings.
    failures += run_gates({**base_env, "TEST_DATABASE_URL": "", "TEST_CACHE": "locmem"})

    pg_url = os.environ.get("TEST_DATABASE_URL") or DEFAULT_PG
    redis_url = os.environ.get("TEST_REDIS_URL") or DEFAULT_REDIS
    broker_url = os.environ.get("TEST_BROKER_URL") or DEFAULT_BROKER
    servers_env = {"TEST_REDIS_URL": redis_url, "TEST_BROKER_URL": broker_url}
    have_pg = reachable(pg_url, 5432)
    have_redis = reachable(redis_url, 6379)
    if not reachable(broker_url, 5672):
        missing("RabbitMQ tests skipped", broker_url, "TEST_BROKER_URL", notes, failures)

    pytest = [str(BIN / "python"), "-m", "pytest", "-q", "-n", WORKERS]
    reports = ROOT / "var" / "test-reports"
    reports.mkdir(parents=True, exist_ok=True)
    for stale in reports.glob("*.xml"):
        stale.unlink()

    # Lane 1. The redis and broker tests move to lane 2 when it runs with Redis.
    services_lane = have_pg and (have_redis or not IN_CI)
    sqlite_marks = ["-m", "not redis and not broker"] if services_lane and have_redis else []
    sqlite_code = run(
        "tests on SQLite",
        [*pytest, *sqlite_marks, f"--junitxml={reports / 'sqlite.xml'}"],
        {**base_env, **servers_env, "TEST_DATABASE_URL": "", "TEST_CACHE": "locmem"},
    )
    if sqlite_code != 0:
        failures.append(f"SQLite lane (pytest exit {sqlite_code})")

    # Lane 2.
    if not have_pg:
        missing("PostgreSQL + Redis lane skipped", pg_url, "TEST_DATABASE_URL", notes, failures)
    if not have_redis:
        missing("Redis tests skipped", redis_url, "TEST_REDIS_URL", notes, failures)
    if services_lane:
        title = "tests on PostgreSQL + Redis" if have_redis else "tests on PostgreSQL (no Redis)"
        code = run(
            title,
            [
                *pytest,
                "-m",
                "not slow or services_e2e",
                f"--junitxml={reports / 'services.xml'}",
            ],
            {
                **base_env,
                **servers_env,
                "TEST_DATABASE_URL": pg_url,
                "TEST_CACHE": "redis" if have_redis else "locmem",
            },
        )
        if code != 0:
            failures.append(f"{title} lane (pytest exit {code})")

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
