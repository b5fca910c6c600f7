"""`make run` end to end: a fresh var directory, the whole system up, healthy, demo data
loaded once, and Ctrl-C stops every child process."""

from __future__ import annotations

import json
import os
import re
import signal
import socket
import subprocess
import sys
import time
import urllib.request
from pathlib import Path

import pytest

ROOT = Path(__file__).resolve().parent.parent

pytestmark = pytest.mark.slow


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


def start_system(var_dir: Path, port: int) -> tuple[subprocess.Popen[str], list[str]]:
    env = {
        **{k: v for k, v in os.environ.items() if not k.startswith(("DJANGO_", "TEST_"))},
        "TESSERA_VAR_DIR": str(var_dir),
        "PORT": str(port),
        "HOST": "127.0.0.1",
        "DJANGO_SETTINGS_MODULE": "config.settings.dev",
    }
    process = subprocess.Popen(
        [sys.executable, "scripts/run.py"],
        cwd=ROOT,
        env=env,
        stdout=subprocess.PIPE,
        stderr=subprocess.STDOUT,
        text=True,
    )
    lines: list[str] = []
    deadline = time.monotonic() + 90
    assert process.stdout is not None
    while time.monotonic() < deadline:
        line = process.stdout.readline()
        if not line:
            break
        lines.append(line)
        if "Ctrl-C stops" in line:
            return process, lines
    process.kill()
    raise AssertionError("make run did not come up:\n" + "".join(lines[-40:]))


def stop_system(process: subprocess.Popen[str], lines: list[str]) -> list[int]:
    pids = [int(pid) for pid in re.findall(r"\(pid (\d+)\)", "".join(lines))]
    process.send_signal(signal.SIGINT)
    process.communicate(timeout=30)
    return pids


def test_make_run_serves_the_system_and_ctrl_c_stops_everything(tmp_path: Path) -> None:
    port = free_port()
    process, lines = start_system(tmp_path, port)
    try:
        output = "".join(lines)
        password = (tmp_path / "admin-password").read_text().strip()
        assert f"Admin login:   admin@tessera.local / {password}" in output
        assert f"http://127.0.0.1:{port}/api/docs" in output
        with urllib.request.urlopen(f"http://127.0.0.1:{port}/health/ready", timeout=10) as r:
            ready = json.load(r)
        assert ready["status"] == "ok"
        assert set(ready["checks"]) == {"database", "cache", "broker"}
    finally:
        pids = stop_system(process, lines)

    assert len(pids) == 3
    deadline = time.monotonic() + 15
    while any(alive(pid) for pid in pids) and time.monotonic() < deadline:
        time.sleep(0.2)
    assert [pid for pid in pids if alive(pid)] == []

    # A second run reuses everything: same admin, no demo data added twice, healthy again.
    process, lines = start_system(tmp_path, port)
    try:
        assert "Created the admin account" not in "".join(lines)
        assert not re.search(r"Demo data for \w+: [1-9]", "".join(lines))
    finally:
        stop_system(process, lines)
