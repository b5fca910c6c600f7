"""`make run` as a child process, for the tests that need the whole system running
(tests/test_make_run.py, tests/test_readme.py).

A loaded machine is normal (two cores shared by several people, CI), so waits are long
(`MAKE_RUN_TEST_TIMEOUT`, 600 s by default), report progress every 30 s, and when they give
up say what they were waiting for, with the last lines `make run` printed.
"""

from __future__ import annotations

import contextlib
import os
import queue
import re
import signal
import socket
import subprocess
import sys
import threading
import time
import uuid
from collections.abc import Iterator
from dataclasses import dataclass, field
from pathlib import Path
from typing import NoReturn
from urllib.parse import urlparse, urlunparse

import pytest

ROOT = Path(__file__).resolve().parent.parent
TIMEOUT = float(os.environ.get("MAKE_RUN_TEST_TIMEOUT", "600"))
BANNER = "Ctrl-C stops"
# Variables that would point `make run` at a developer's own servers or settings.
NOT_PASSED = ("DJANGO_", "TEST_", "DATABASE_URL", "REDIS_URL", "CELERY_", "RATE_LIMIT_STORAGE")


@dataclass(frozen=True)
class Setup:
    """What `make run` runs on: the embedded default, or the services lane's servers."""

    name: str
    env: dict[str, str] = field(default_factory=dict)
    # What the Celery worker's banner shows when it reads this setup's broker and queue.
    worker_shows: str = "transport:   sqla+sqlite:"


EMBEDDED = Setup("the embedded default (SQLite, the database cache, the SQLite broker)")


def services_requested() -> bool:
    """Whether this is the services lane (scripts/test.py sets TEST_DATABASE_URL there only)."""
    return bool(os.environ.get("TEST_DATABASE_URL"))


def without_password(url: str) -> str:
    parsed = urlparse(url)
    if parsed.password is None:
        return url
    return urlunparse(parsed._replace(netloc=parsed.netloc.replace(f":{parsed.password}@", ":**@")))


@contextlib.contextmanager
def services_setup(database_url: str, redis_url: str, broker_url: str) -> Iterator[Setup]:
    """`make run` on the lane's servers, apart from everything else on them: a scratch
    PostgreSQL database of its own (dropped afterwards), a cache key prefix of its own in the
    tests' Redis database and a queue of its own in the lane's RabbitMQ vhost (both removed
    afterwards), so a broker test's worker in the same vhost never takes its tasks."""
    import psycopg
    import redis
    from kombu import Connection

    own = f"run_{uuid.uuid4().hex[:10]}"
    server = urlparse(database_url)
    database = f"{server.path.lstrip('/') or 'tessera_test'}_{own}"
    maintenance = urlunparse(server._replace(path="/postgres"))
    with psycopg.connect(maintenance, autocommit=True) as connection:
        connection.execute(f'CREATE DATABASE "{database}"')
    prefix, queue_name = f"tessera-{own}", f"tessera_{own}"
    setup = Setup(
        f"PostgreSQL (database {database}), Redis ({without_password(redis_url)}, prefix "
        f"{prefix}) and RabbitMQ ({without_password(broker_url)}, queue {queue_name})",
        {
            "DATABASE_URL": urlunparse(server._replace(path=f"/{database}")),
            "REDIS_URL": redis_url,
            "CACHE_KEY_PREFIX": prefix,
            "CELERY_BROKER_URL": broker_url,
            "CELERY_TASK_DEFAULT_QUEUE": queue_name,
            "METRICS_QUEUES": queue_name,
        },
        worker_shows=f".> {queue_name} ",
    )
    try:
        yield setup
    finally:
        with psycopg.connect(maintenance, autocommit=True) as connection:
            connection.execute(f'DROP DATABASE IF EXISTS "{database}" WITH (FORCE)')
        client = redis.Redis.from_url(redis_url)
        for key in client.scan_iter(match=f"{prefix}:*", count=1000):
            client.delete(key)
        client.close()
        with contextlib.suppress(Exception), Connection(broker_url) as connection:
            connection.default_channel.queue_delete(queue_name)  # type: ignore[attr-defined]


def free_port() -> int:
    with socket.socket() as sock:
        sock.bind(("127.0.0.1", 0))
        return int(sock.getsockname()[1])


def alive(pid: int) -> bool:
    try:
        os.kill(pid, 0)
    except ProcessLookupError:
        return False
    # A zombie still answers kill(0); it has stopped all the same.
    stat = Path(f"/proc/{pid}/stat")
    return stat.exists() and stat.read_text().split()[2] != "Z"


def run_env(var_dir: Path, port: int, **extra: str) -> dict[str, str]:
    """`make run`'s environment: this one, less what would point it at a developer's own
    servers or settings, with its own var directory and port."""
    return {
        **{k: v for k, v in os.environ.items() if not k.startswith(NOT_PASSED)},
        "TESSERA_VAR_DIR": str(var_dir),
        "PORT": str(port),
        "HOST": "127.0.0.1",
        **extra,
    }


class RunningSystem:
    """`scripts/run.py` as a child, its output read by a thread so waits can time out."""

    def __init__(self, var_dir: Path, port: int, setup: Setup = EMBEDDED, **extra_env: str) -> None:
        self.port = port
        self.setup = setup
        self.env = run_env(var_dir, port, **setup.env, **extra_env)
        self.started = time.monotonic()
        self.process = subprocess.Popen(
            [sys.executable, "scripts/run.py"],
            cwd=ROOT,
            env=self.env,
            stdout=subprocess.PIPE,
            stderr=subprocess.STDOUT,
            text=True,
        )
        self.lines: list[str] = []
        self._lines: queue.Queue[str | None] = queue.Queue()
        threading.Thread(target=self._read, daemon=True).start()

    def _read(self) -> None:
        assert self.process.stdout is not None
        for line in self.process.stdout:
            self._lines.put(line)
        self._lines.put(None)

    @property
    def output(self) -> str:
        return "".join(self.lines)

    def wait_for(self, marker: str, what: str, timeout: float = TIMEOUT) -> None:
        """Read output until a line holds `marker`; fail saying `what` was awaited."""
        deadline = self.started + timeout
        next_progress = time.monotonic() + 30
        while True:
            now = time.monotonic()
            if now > deadline:
                self.fail(f"waited {timeout:.0f} s for {what} (a line with {marker!r})")
            if now > next_progress:
                sys.stderr.write(
                    f"[test_make_run] still waiting for {what}: {now - self.started:.0f} s, "
                    f"last line: {self.lines[-1].rstrip() if self.lines else '(none)'}\n"
                )
                next_progress += 30
            try:
                line = self._lines.get(timeout=1)
            except queue.Empty:
                continue
            if line is None:
                code = self.process.wait()
                self.fail(f"make run exited with {code} before {what}")
            self.lines.append(line)
            if marker in line:
                return

    def fail(self, message: str) -> NoReturn:
        self.stop()
        tail = "".join(self.lines[-60:])
        pytest.fail(
            f"{message} (make run on {self.setup.name}).\nLast lines of make run's output:\n{tail}",
            pytrace=False,
        )

    def check_setup(self) -> None:
        """After `stop`: fail unless the worker's banner showed the setup's broker or queue,
        so a test can never pass on the embedded default while claiming the services."""
        if self.setup.worker_shows not in self.output:
            self.fail(f"the worker's banner does not show {self.setup.worker_shows!r}")

    def pids(self) -> list[int]:
        return [int(pid) for pid in re.findall(r"\(pid (\d+)\)", self.output)]

    def stop(self) -> None:
        if self.process.poll() is None:
            self.process.send_signal(signal.SIGINT)
            try:
                self.process.wait(timeout=60)
            except subprocess.TimeoutExpired:
                self.process.kill()
                self.process.wait()
        time.sleep(0.2)
        while not self._lines.empty():
            line = self._lines.get()
            if line is not None:
                self.lines.append(line)
