"""Read replicas (tessera/core/dbrouter.py) against a real streaming replica: a PostgreSQL
primary and a replica made with pg_basebackup, both started here in a temporary directory."""

from __future__ import annotations

import json
import os
import subprocess
import sys
from collections.abc import Iterator
from pathlib import Path
from typing import Any

import pytest

from config.localprod import production_env
from tessera.core import dbrouter
from tests.pgcluster import ReplicatedPair, server_bin_dir

ROOT = Path(__file__).resolve().parent.parent
IN_CI = os.environ.get("CI", "").lower() in {"1", "true", "yes"}
DATABASE = "tessera_ops_replica"


@pytest.fixture(scope="module")
def pair() -> Iterator[ReplicatedPair]:
    bin_dir = server_bin_dir()
    if bin_dir is None:
        message = "PostgreSQL server binaries (/usr/lib/postgresql/*/bin) are not installed"
        if IN_CI:
            pytest.fail(f"{message} (required with CI=true)", pytrace=False)
        pytest.skip(f"{message}: apt-get install postgresql to run the replica test")
    started = ReplicatedPair(bin_dir=bin_dir)
    try:
        started.start()
        started.execute(started.primary_port, f"CREATE DATABASE {DATABASE}")
        yield started
    finally:
        started.stop()


def _run(pair: ReplicatedPair, *argv: str) -> subprocess.CompletedProcess[str]:
    keep = {k: v for k, v in os.environ.items() if k in {"PATH", "HOME", "LANG", "TMPDIR"}}
    env = {
        **keep,
        **production_env(
            DJANGO_ALLOWED_HOSTS="testserver",
            DATABASE_URL=pair.url(pair.primary_port, DATABASE),
            DATABASE_REPLICA_URLS=pair.url(pair.replica_port, DATABASE),
            DATABASE_REPLICA_PIN_SECONDS="2",
            CELERY_TASK_ALWAYS_EAGER="true",
            CELERY_BROKER_URL="memory://",
            EDGE_ENABLED="false",
            CAPSULE_PAGE_CACHE="false",
            RATE_LIMIT_ENABLED="false",
            LOG_LEVEL="WARNING",
        ),
        "PYTHONPATH": str(ROOT),
    }
    return subprocess.run(
        [sys.executable, *argv],
        cwd=ROOT,
        env=env,
        capture_output=True,
        text=True,
        timeout=300,
        check=False,
    )


def test_reads_go_to_the_replica_except_right_after_a_write(pair: ReplicatedPair) -> None:
    for command in (["migrate", "--noinput"], ["createcachetable"]):
        done = _run(pair, "manage.py", *command)
        assert done.returncode == 0, done.stderr[-3000:]
    pair.wait_replayed()

    done = _run(pair, "tests/replica_scenario.py")
    assert done.returncode == 0, done.stderr[-3000:]
    seen: dict[str, Any] = json.loads(done.stdout.strip().splitlines()[-1])

    # Writes, and the writer's reads right after, touch only the primary.
    assert seen["write"] == {"status": 201, "primary": seen["write"]["primary"], "replica": 0}
    assert seen["seal_status"] == 200
    assert seen["writer_reads_own_write"]["titles"] == ["First"]
    assert seen["writer_reads_own_write"]["replica"] == 0
    # The row names its receiver: he reads it back at once too, from the primary.
    assert seen["receiver_pinned_by_row"] == {"titles": ["First"], "replica": 0}
    # Past the window, reads come from the replica: frozen, it lacks the capsule ...
    assert seen["after_window_frozen"]["titles"] == []
    assert seen["after_window_frozen"]["replica"] > 0
    # ... and once it has replayed, it serves it.
    assert seen["after_window_caught_up"]["titles"] == ["First"]
    assert seen["after_window_caught_up"]["replica"] > 0
    # Accounts are read from the primary: a brand-new account works on a frozen replica.
    assert seen["new_account_reads"]["status"] == 200


def test_the_bearer_subject_is_read_without_trusting_it() -> None:
    token = "eyJhbGciOiJIUzI1NiJ9.eyJzdWIiOiJhYmMifQ.c2ln"  # {"sub": "abc"}, any signature
    assert dbrouter.bearer_subject(f"Bearer {token}") == "abc"
    assert dbrouter.bearer_subject("Bearer not-a-jwt") is None
    assert dbrouter.bearer_subject("Basic dXNlcjpwdw==") is None
    assert dbrouter.bearer_subject("Bearer a.!!!.c") is None


def test_primary_reads_keep_a_read_scope_on_the_primary(settings: Any) -> None:
    # A kept discovery page is built inside `primary_reads()` (docs/decisions/0038).
    from tessera.events.models import Event

    settings.DATABASE_REPLICAS = ["replica"]
    settings.DATABASE_REPLICA_PRIMARY_APPS = []
    router = dbrouter.ReplicaRouter()
    with dbrouter.replica_reads():
        assert router.db_for_read(Event) == "replica"
        with dbrouter.primary_reads():
            assert router.db_for_read(Event) == dbrouter.PRIMARY
        assert router.db_for_read(Event) == "replica"
