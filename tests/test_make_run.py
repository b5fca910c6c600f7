"""`make run` end to end: a fresh var directory, the whole system up, healthy, demo data
loaded once, plain 404 pages, Ctrl-C stops every child process; and a port in use refused.

A loaded machine is normal (two cores shared by several people, CI), so the wait for the
system is long (`MAKE_RUN_TEST_TIMEOUT`, 600 s by default), reports progress every 30 s, and
when it gives up says what it was waiting for with the last lines `make run` printed.
"""

from __future__ import annotations

import json
import os
import queue
import re
import signal
import socket
import subprocess
import sys
import threading
import time
import urllib.error
import urllib.request
from pathlib import Path

import pytest

ROOT = Path(__file__).resolve().parent.parent
TIMEOUT = float(os.environ.get("MAKE_RUN_TEST_TIMEOUT", "600"))
BANNER = "Ctrl-C stops"
# Variables that would point `make run` at a developer's own servers or settings.
NOT_PASSED = ("DJANGO_", "TEST_", "DATABASE_URL", "REDIS_URL", "CELERY_", "RATE_LIMIT_STORAGE")


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


def run_env(var_dir: Path, port: int) -> dict[str, str]:
    return {
        **{k: v for k, v in os.environ.items() if not k.startswith(NOT_PASSED)},
        "TESSERA_VAR_DIR": str(var_dir),
        "PORT": str(port),
        "HOST": "127.0.0.1",
    }


class RunningSystem:
    """`scripts/run.py` as a child, its output read by a thread so waits can time out."""

    def __init__(self, var_dir: Path, port: int) -> None:
        self.port = port
        self.started = time.monotonic()
        self.process = subprocess.Popen(
            [sys.executable, "scripts/run.py"],
            cwd=ROOT,
            env=run_env(var_dir, port),
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

    def fail(self, message: str) -> None:
        self.stop()
        tail = "".join(self.lines[-60:])
        pytest.fail(f"{message}.\nLast lines of make run's output:\n{tail}", pytrace=False)

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


def get(url: str) -> tuple[int, str, bytes]:
    try:
        with urllib.request.urlopen(url, timeout=30) as reply:
            return reply.status, reply.headers.get("Content-Type", ""), reply.read()
    except urllib.error.HTTPError as error:
        return error.code, error.headers.get("Content-Type", ""), error.read()


@pytest.mark.slow
def test_make_run_serves_the_system_and_ctrl_c_stops_everything(tmp_path: Path) -> None:
    port = free_port()
    base = f"http://127.0.0.1:{port}"
    system = RunningSystem(tmp_path, port)
    try:
        system.wait_for(BANNER, "the system to be healthy (cold start: migrations, demo data)")
        cold = time.monotonic() - system.started
        password = (tmp_path / "admin-password").read_text().strip()
        assert f"Admin login:   admin@tessera.local / {password}" in system.output
        assert f"{base}/api/docs" in system.output
        status, _type, body = get(f"{base}/health/ready")
        ready = json.loads(body)
        assert (status, ready["status"]) == (200, "ok")
        assert set(ready["checks"]) == {"database", "cache", "broker"}
        # An unknown page is a plain 404, not Django's debug page listing every URL pattern;
        # under /api/ it is the envelope.
        status, content_type, body = get(f"{base}/no-such-page")
        assert status == 404
        assert content_type.startswith("text/html")
        assert b"URLconf" not in body
        assert b"Traceback" not in body
        status, content_type, body = get(f"{base}/api/no-such-route")
        assert status == 404
        assert content_type.startswith("application/json")
        assert json.loads(body)["error"]["code"] == "not_found"
    finally:
        system.stop()
    pids = system.pids()
    assert len(pids) == 3, system.output
    deadline = time.monotonic() + 30
    while any(alive(pid) for pid in pids) and time.monotonic() < deadline:
        time.sleep(0.2)
    assert [pid for pid in pids if alive(pid)] == []

    # A second run reuses everything: same admin, no demo data added twice, healthy again.
    system = RunningSystem(tmp_path, port)
    try:
        system.wait_for(BANNER, "the system to be healthy again (warm start)")
        warm = time.monotonic() - system.started
        assert "Created the admin account" not in system.output
        assert "migrations up to date" in system.output
        assert not re.search(r"Demo data for \w+: [1-9]", system.output), system.output
    finally:
        system.stop()
    # Reported, not asserted: timings are benchmarks' business (bench/run/start.py).
    sys.stderr.write(f"make run: cold start {cold:.1f} s, warm start {warm:.1f} s\n")


@pytest.mark.parametrize("reuse_port", [False, True], ids=["plain", "so_reuseport"])
def test_make_run_refuses_a_port_in_use(tmp_path: Path, reuse_port: bool) -> None:
    # granian listens with SO_REUSEPORT: a second granian on the same port would start and
    # share the connections; make run must refuse either kind of listener.
    with socket.socket() as taken:
        if reuse_port:
            taken.setsockopt(socket.SOL_SOCKET, socket.SO_REUSEPORT, 1)
        taken.bind(("127.0.0.1", 0))
        taken.listen()
        port = taken.getsockname()[1]

        result = subprocess.run(
            [sys.executable, "scripts/run.py"],
            cwd=ROOT,
            env=run_env(tmp_path, port),
            capture_output=True,
            text=True,
            timeout=120,
            check=False,
        )

    assert result.returncode == 1
    assert f"port {port} is in use" in result.stderr
    assert not (tmp_path / "db.sqlite3").exists()  # refused before touching anything
