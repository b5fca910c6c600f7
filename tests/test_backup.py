"""deploy/pg_backup.sh and deploy/pg_restore.sh on a scratch database of their own (named for
this test), on the PostgreSQL server the suite uses: a backup restores the data exactly, a
damaged dump is refused, and a restore over a database with tables needs confirming."""

from __future__ import annotations

import os
import shutil
import subprocess
from collections.abc import Iterator
from pathlib import Path
from urllib.parse import urlparse

import psycopg
import pytest

ROOT = Path(__file__).resolve().parent.parent
IN_CI = os.environ.get("CI", "").lower() in {"1", "true", "yes"}
SERVER = os.environ.get("TEST_DATABASE_URL") or "postgresql://postgres@127.0.0.1:5432/postgres"
SOURCE, COPY = "tessera_ops_backup_source", "tessera_ops_backup_copy"


def _url(database: str) -> str:
    parsed = urlparse(SERVER)
    return parsed._replace(path=f"/{database}").geturl()


@pytest.fixture
def databases() -> Iterator[None]:
    if shutil.which("pg_dump") is None or shutil.which("pg_restore") is None:
        if IN_CI:
            pytest.fail("pg_dump/pg_restore are not installed (required with CI=true)")
        pytest.skip("pg_dump/pg_restore are not installed: apt-get install postgresql-client")
    try:
        admin = psycopg.connect(_url("postgres"), autocommit=True, connect_timeout=3)
    except psycopg.OperationalError as error:
        if IN_CI:
            pytest.fail(f"PostgreSQL is not reachable at {SERVER}: {error}")
        pytest.skip(f"PostgreSQL is not reachable at {SERVER}")
    with admin:
        for name in (SOURCE, COPY):
            admin.execute(f'DROP DATABASE IF EXISTS "{name}" WITH (FORCE)')
            admin.execute(f'CREATE DATABASE "{name}"')
        yield
        for name in (SOURCE, COPY):
            admin.execute(f'DROP DATABASE IF EXISTS "{name}" WITH (FORCE)')


def _script(name: str, *args: str, **env: str) -> subprocess.CompletedProcess[str]:
    return subprocess.run(
        ["bash", str(ROOT / "deploy" / name), *args],
        capture_output=True,
        text=True,
        timeout=120,
        check=False,
        env={**os.environ, **env},
    )


def _rows(database: str) -> list[tuple[object, ...]]:
    with psycopg.connect(_url(database)) as conn:
        return conn.execute(
            "SELECT a.id, a.email, a.balance_minor, b.note FROM account a "
            "LEFT JOIN entry b ON b.account_id = a.id ORDER BY a.id, b.id"
        ).fetchall()


def test_a_backup_restores_exactly_and_refuses_damage(databases: None, tmp_path: Path) -> None:
    with psycopg.connect(_url(SOURCE)) as conn:
        conn.execute(
            "CREATE TABLE account (id bigserial PRIMARY KEY, email text UNIQUE NOT NULL, "
            "balance_minor bigint NOT NULL CHECK (balance_minor >= 0));"
            "CREATE TABLE entry (id bigserial PRIMARY KEY, account_id bigint NOT NULL "
            "REFERENCES account(id), note text NOT NULL);"
            "INSERT INTO account (email, balance_minor) SELECT 'u' || g || '@example.com', g * 100"
            " FROM generate_series(1, 500) g;"
            "INSERT INTO entry (account_id, note) SELECT (g % 500) + 1, 'مرحبا ' || g "
            "FROM generate_series(1, 2000) g;"
        )
    before = _rows(SOURCE)

    backed_up = _script("pg_backup.sh", _url(SOURCE), str(tmp_path))
    assert backed_up.returncode == 0, backed_up.stderr
    dump = Path(backed_up.stdout.strip().splitlines()[-1])
    assert dump.exists()
    assert Path(f"{dump}.sha256").exists()

    restored = _script("pg_restore.sh", str(dump), _url(COPY))
    assert restored.returncode == 0, restored.stderr
    assert _rows(COPY) == before
    # Constraints and sequences came back too.
    with psycopg.connect(_url(COPY)) as conn, pytest.raises(psycopg.errors.CheckViolation):
        conn.execute("INSERT INTO account (email, balance_minor) VALUES ('x@y.z', -1)")
    with psycopg.connect(_url(COPY)) as conn:
        new_id = conn.execute(
            "INSERT INTO account (email, balance_minor) VALUES ('new@y.z', 0) RETURNING id"
        ).fetchone()
        assert new_id is not None
        assert new_id[0] > 500  # the sequence came back where it was

    # Over a database that has tables: refused without confirmation, done with it.
    with psycopg.connect(_url(SOURCE)) as conn:
        conn.execute("DELETE FROM entry; DELETE FROM account;")
    refused = _script("pg_restore.sh", str(dump), _url(SOURCE))
    assert refused.returncode == 3
    assert "RESTORE_CONFIRM" in refused.stderr
    confirmed = _script("pg_restore.sh", str(dump), _url(SOURCE), RESTORE_CONFIRM=SOURCE)
    assert confirmed.returncode == 0, confirmed.stderr
    assert _rows(SOURCE) == before

    # A damaged dump is refused before anything is touched.
    data = bytearray(dump.read_bytes())
    data[len(data) // 2] ^= 0xFF
    dump.write_bytes(bytes(data))
    damaged = _script("pg_restore.sh", str(dump), _url(SOURCE), RESTORE_CONFIRM=SOURCE)
    assert damaged.returncode != 0
    assert _rows(SOURCE) == before
