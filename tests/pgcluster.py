"""A throwaway PostgreSQL primary and a streaming replica, in a temporary directory.

Started with the server binaries from /usr/lib/postgresql/*/bin (initdb, pg_ctl,
pg_basebackup) as the `postgres` OS user when running as root, on free loopback ports, with
their sockets in the same directory. `stop()` stops both and removes the directory.
"""

from __future__ import annotations

import contextlib
import os
import pwd
import shutil
import socket
import subprocess
import tempfile
import time
from dataclasses import dataclass, field
from pathlib import Path

import psycopg


def server_bin_dir() -> Path | None:
    candidates = sorted(Path("/usr/lib/postgresql").glob("*/bin"), key=lambda p: int(p.parent.name))
    usable = [path for path in candidates if (path / "initdb").exists()]
    return usable[-1] if usable else None


def free_port() -> int:
    with socket.socket() as sock:
        sock.bind(("127.0.0.1", 0))
        return int(sock.getsockname()[1])


@dataclass
class ReplicatedPair:
    bin_dir: Path
    root: Path = field(default_factory=lambda: Path(tempfile.mkdtemp(prefix="tessera-ops-pg-")))
    primary_port: int = 0
    replica_port: int = 0
    started: list[Path] = field(default_factory=list)

    def _run(self, *argv: str) -> subprocess.CompletedProcess[str]:
        command = list(argv)
        if os.geteuid() == 0:
            command = ["runuser", "-u", "postgres", "--", *command]
        done = subprocess.run(
            command, capture_output=True, text=True, timeout=120, check=False, cwd="/"
        )
        if done.returncode != 0:
            raise RuntimeError(f"{' '.join(argv)} failed:\n{done.stdout}\n{done.stderr}")
        return done

    def _tool(self, name: str) -> str:
        return str(self.bin_dir / name)

    def _start(self, data: Path, port: int) -> None:
        options = f"-p {port} -k {self.root} -c listen_addresses=127.0.0.1"
        self._run(
            self._tool("pg_ctl"),
            "-D",
            str(data),
            "-o",
            options,
            "-l",
            str(data.parent / f"{data.name}.log"),
            "-w",
            "-t",
            "60",
            "start",
        )
        self.started.append(data)

    def start(self) -> None:
        if os.geteuid() == 0:
            owner = pwd.getpwnam("postgres")
            os.chown(self.root, owner.pw_uid, owner.pw_gid)
        primary, replica = self.root / "primary", self.root / "replica"
        self._run(
            self._tool("initdb"),
            "-D",
            str(primary),
            "-U",
            "postgres",
            "--auth=trust",
            "--no-sync",
            "-E",
            "UTF8",
            "--locale=C",
        )
        with (primary / "postgresql.conf").open("a") as conf:
            conf.write("wal_level = replica\nmax_wal_senders = 4\nfsync = off\n")
            conf.write("synchronous_commit = off\nfull_page_writes = off\n")
        self.primary_port = free_port()
        self._start(primary, self.primary_port)
        self._run(
            self._tool("pg_basebackup"),
            "-h",
            "127.0.0.1",
            "-p",
            str(self.primary_port),
            "-U",
            "postgres",
            "-D",
            str(replica),
            "-R",
            "-X",
            "stream",
            "--no-sync",
        )
        self.replica_port = free_port()
        self._start(replica, self.replica_port)

    def url(self, port: int, database: str) -> str:
        return f"postgresql://postgres@127.0.0.1:{port}/{database}"

    def execute(self, port: int, statement: str, database: str = "postgres") -> object:
        with psycopg.connect(self.url(port, database), autocommit=True) as conn:
            cursor = conn.execute(statement)
            row = cursor.fetchone() if cursor.description else None
            return row[0] if row else None

    def wait_replayed(self, timeout: float = 30.0) -> None:
        """Until the replica has replayed everything the primary has written so far."""
        target = self.execute(self.primary_port, "SELECT pg_current_wal_lsn()::text")
        deadline = time.monotonic() + timeout
        while time.monotonic() < deadline:
            caught_up = self.execute(
                self.replica_port, f"SELECT pg_last_wal_replay_lsn() >= '{target}'::pg_lsn"
            )
            if caught_up:
                return
            time.sleep(0.05)
        raise TimeoutError(f"the replica did not replay up to {target} in {timeout} s")

    def stop(self) -> None:
        for data in reversed(self.started):
            with contextlib.suppress(RuntimeError):
                self._run(self._tool("pg_ctl"), "-D", str(data), "-m", "immediate", "stop")
        shutil.rmtree(self.root, ignore_errors=True)
