"""`make run` end to end: a fresh var directory, the whole system up, healthy, demo data
loaded once, plain 404 pages, Ctrl-C stops every child process; and a port in use refused.
Waiting for it: tests/system.py (long bounds, progress, a failure that says what it awaited).
"""

from __future__ import annotations

import json
import re
import socket
import subprocess
import sys
import time
import urllib.error
import urllib.request
from pathlib import Path

import pytest

from tests.system import BANNER, ROOT, RunningSystem, alive, free_port, run_env


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
