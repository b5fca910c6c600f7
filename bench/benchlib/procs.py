"""Starting, watching and always stopping the processes a benchmark run needs.

Every process is started in its own session (so its workers share its process group) and
recorded in a registry; `Registry.stop_all()` runs on normal exit, on an exception, on Ctrl-C
and on SIGTERM, and stops each group by its id: SIGTERM, a grace period, then SIGKILL.
"""

from __future__ import annotations

import contextlib
import http.client
import os
import signal
import socket
import subprocess
import time
from collections.abc import Sequence
from dataclasses import dataclass, field
from pathlib import Path
from typing import IO

import psutil


class BenchError(RuntimeError):
    """A benchmark could not run (a server did not start, a tool is missing, ...)."""


_handed_out: set[int] = set()


def free_port() -> int:
    """A TCP port on 127.0.0.1 that nothing listens on right now: any free one, or the first
    free one of `BENCH_PORTS` ("18200-18299") when set (a shared machine's own range)."""
    span = os.environ.get("BENCH_PORTS", "")
    if span:
        low, _, high = span.partition("-")
        for port in range(int(low), int(high or low) + 1):
            if port in _handed_out:
                continue
            with socket.socket(socket.AF_INET, socket.SOCK_STREAM) as sock:
                try:
                    sock.bind(("127.0.0.1", port))
                except OSError:
                    continue
            _handed_out.add(port)
            return port
        raise BenchError(f"no free port in BENCH_PORTS={span}")
    with socket.socket(socket.AF_INET, socket.SOCK_STREAM) as sock:
        sock.bind(("127.0.0.1", 0))
        return int(sock.getsockname()[1])


def tail(path: Path, lines: int = 30) -> str:
    try:
        text = path.read_text(errors="replace")
    except OSError:
        return ""
    return "\n".join(text.splitlines()[-lines:])


@dataclass
class Managed:
    name: str
    proc: subprocess.Popen[bytes]
    log_path: Path
    _log: IO[bytes] | None = field(default=None, repr=False)

    @property
    def pid(self) -> int:
        return self.proc.pid

    def alive(self) -> bool:
        return self.proc.poll() is None

    def tree(self) -> list[psutil.Process]:
        """The leader and all its descendants that still exist."""
        try:
            leader = psutil.Process(self.proc.pid)
            return [leader, *leader.children(recursive=True)]
        except psutil.NoSuchProcess:
            return []


class Registry:
    """All processes this run started; stops them in reverse order."""

    def __init__(self) -> None:
        self._procs: list[Managed] = []

    def start(
        self,
        name: str,
        cmd: Sequence[str],
        *,
        env: dict[str, str],
        cwd: Path,
        log_path: Path,
    ) -> Managed:
        log_path.parent.mkdir(parents=True, exist_ok=True)
        log = log_path.open("ab")
        log.write(f"$ {' '.join(cmd)}\n".encode())
        log.flush()
        proc = subprocess.Popen(
            list(cmd),
            cwd=cwd,
            env=env,
            stdin=subprocess.DEVNULL,
            stdout=log,
            stderr=subprocess.STDOUT,
            start_new_session=True,
        )
        managed = Managed(name=name, proc=proc, log_path=log_path, _log=log)
        self._procs.append(managed)
        return managed

    def stop(self, managed: Managed, grace: float = 15.0) -> None:
        pgid = managed.proc.pid  # start_new_session: the leader's pid is the group's id
        if managed.alive():
            with contextlib.suppress(ProcessLookupError):
                os.killpg(pgid, signal.SIGTERM)
            try:
                managed.proc.wait(timeout=grace)
            except subprocess.TimeoutExpired:
                with contextlib.suppress(ProcessLookupError):
                    os.killpg(pgid, signal.SIGKILL)
                managed.proc.wait(timeout=10)
        # Workers the leader left behind (it exited first, or was killed).
        deadline = time.monotonic() + 5
        while _group_exists(pgid) and time.monotonic() < deadline:
            time.sleep(0.1)
        if _group_exists(pgid):
            with contextlib.suppress(ProcessLookupError):
                os.killpg(pgid, signal.SIGKILL)
        if managed._log is not None:
            managed._log.close()
            managed._log = None
        if managed in self._procs:
            self._procs.remove(managed)

    def stop_all(self) -> None:
        for managed in reversed(list(self._procs)):
            try:
                self.stop(managed)
            except Exception as exc:  # noqa: BLE001 - keep stopping the others
                print(f"  ! could not stop {managed.name} (pid {managed.pid}): {exc}")


def _group_exists(pgid: int) -> bool:
    try:
        os.killpg(pgid, 0)
    except ProcessLookupError:
        return False
    except PermissionError:
        return True
    return True


def install_signal_handlers() -> None:
    """Ctrl-C raises KeyboardInterrupt (even when the shell started us with SIGINT ignored),
    SIGTERM and SIGHUP raise SystemExit: either way `finally:` blocks stop every process."""

    def _exit(signum: int, _frame: object) -> None:
        raise SystemExit(128 + signum)

    signal.signal(signal.SIGINT, signal.default_int_handler)
    signal.signal(signal.SIGTERM, _exit)
    signal.signal(signal.SIGHUP, _exit)


def http_get(
    port: int, path: str, timeout: float = 5.0
) -> tuple[int, list[tuple[str, str]], bytes]:
    conn = http.client.HTTPConnection("127.0.0.1", port, timeout=timeout)
    try:
        conn.request("GET", path, headers={"Host": "127.0.0.1"})
        response = conn.getresponse()
        return response.status, response.getheaders(), response.read()
    finally:
        conn.close()


def wait_http(managed: Managed, port: int, path: str, timeout: float = 60.0) -> None:
    """Wait until `path` answers 2xx, failing early (with the log's tail) if the server died."""
    deadline = time.monotonic() + timeout
    last_error = ""
    while time.monotonic() < deadline:
        if not managed.alive():
            raise BenchError(
                f"{managed.name} exited with code {managed.proc.returncode} before answering "
                f"{path}; log {managed.log_path}:\n{tail(managed.log_path)}"
            )
        try:
            status, _headers, _body = http_get(port, path, timeout=2.0)
        except OSError as exc:
            last_error = str(exc)
        else:
            if 200 <= status < 300:
                return
            last_error = f"HTTP {status}"
        time.sleep(0.2)
    raise BenchError(
        f"{managed.name} did not answer {path} within {timeout:.0f}s ({last_error}); "
        f"log {managed.log_path}:\n{tail(managed.log_path)}"
    )
