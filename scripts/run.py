"""`make run`: set up the embedded default and run the whole system.

Refuses to start when the port is taken (granian listens with SO_REUSEPORT, so a second
server would silently share the port with the first). Then, in one process, migrates when
migrations are pending, creates the cache table when missing and loads demo data once
(`manage.py run_prepare`); starts the web server, waits until it is healthy, starts a Celery
worker and the beat scheduler, prints where everything is, and stops every child on Ctrl-C.

The base URL it listens on is exported to the children as `TESSERA_SERVER_URL`, so links
in emails point at this server whatever `HOST` and `PORT` are (tessera/core/links.py).
"""

from __future__ import annotations

import contextlib
import errno
import os
import signal
import socket
import subprocess
import sys
import time
import urllib.request
from pathlib import Path

ROOT = Path(__file__).resolve().parent.parent
BIN = ROOT / ".venv" / "bin"
HOST = os.environ.get("HOST", "127.0.0.1")
PORT = os.environ.get("PORT", "8000")
# How long the web server may take to answer /health/ (a loaded machine is slow, not broken).
HEALTHY_WITHIN_SECONDS = float(os.environ.get("RUN_HEALTHY_WITHIN_SECONDS", "180"))


def port_in_use(host: str, port: int) -> bool:
    """Whether something listens on (host, port): a plain bind, without SO_REUSEPORT, fails
    against any listener, granian's included. SO_REUSEADDR only forgives TIME_WAIT."""
    family = socket.AF_INET6 if ":" in host else socket.AF_INET
    with socket.socket(family, socket.SOCK_STREAM) as probe:
        probe.setsockopt(socket.SOL_SOCKET, socket.SO_REUSEADDR, 1)
        try:
            probe.bind((host.strip("[]"), port))
        except OSError as exc:
            if exc.errno == errno.EADDRINUSE:
                return True
            raise
    return False


def server_url(host: str, port: int) -> str:
    """The URL a browser on this machine uses to reach a server bound to `host`."""
    if host in {"0.0.0.0", "", "::", "[::]"}:  # noqa: S104 - naming the wildcard, not binding it
        host = "127.0.0.1"
    if ":" in host and not host.startswith("["):
        host = f"[{host}]"
    return f"http://{host}:{port}"


def manage(*args: str) -> None:
    subprocess.run([str(BIN / "python"), "manage.py", *args], cwd=ROOT, check=True)


def start(name: str, command: list[str]) -> subprocess.Popen[bytes]:
    # Each child leads its own process group, so stopping it stops its own children too.
    process = subprocess.Popen(command, cwd=ROOT, start_new_session=True)
    print(f"[run] started {name} (pid {process.pid})", flush=True)
    return process


def stop(processes: dict[str, subprocess.Popen[bytes]]) -> None:
    # SIGTERM to each leader only: the Celery worker then shuts its pool down warmly and
    # granian stops its workers. Whatever is left after 10 s is killed with its group.
    for process in processes.values():
        if process.poll() is None:
            process.terminate()
    deadline = time.monotonic() + 10
    for name, process in processes.items():
        try:
            process.wait(timeout=max(0.1, deadline - time.monotonic()))
        except subprocess.TimeoutExpired:
            print(f"[run] {name} did not stop in time; killing it", flush=True)
            os.killpg(process.pid, signal.SIGKILL)
            process.wait()
        with contextlib.suppress(ProcessLookupError):
            os.killpg(process.pid, signal.SIGKILL)


def admin_login() -> str:
    password_file = Path(os.environ.get("TESSERA_VAR_DIR", ROOT / "var")) / "admin-password"
    password = password_file.read_text().strip() if password_file.exists() else "(not created)"
    return f"admin@tessera.local / {password}"


def wait_healthy(url: str, web: subprocess.Popen[bytes], timeout: float) -> bool:
    """Poll `url` until it answers 200; False when `web` exits or `timeout` passes."""
    started = time.monotonic()
    next_note = started + 15
    while time.monotonic() - started < timeout:
        if web.poll() is not None:
            return False
        try:
            with urllib.request.urlopen(url, timeout=2) as response:  # noqa: S310 - local URL
                if response.status == 200:
                    return True
        except OSError:
            time.sleep(0.1)
        if time.monotonic() > next_note:
            print(f"[run] still waiting for {url} ({time.monotonic() - started:.0f} s)", flush=True)
            next_note += 15
    return False


def web_command(host: str, port: int) -> list[str]:
    return [
        str(BIN / "granian"),
        "--interface",
        "wsgi",
        "config.wsgi:application",
        "--host",
        host,
        "--port",
        str(port),
        "--workers",
        "1",
        "--blocking-threads",
        "2",
        "--no-access-log",
        "--log-level",
        "warning",
    ]


def main() -> int:
    started = time.monotonic()
    try:
        port = int(PORT)
    except ValueError:
        print(f"[run] PORT must be a number, not {PORT!r}", file=sys.stderr, flush=True)
        return 2
    if port_in_use(HOST, port):
        print(
            f"[run] port {port} is in use on {HOST}: stop whatever listens there, or pick "
            "another one (PORT=9000 make run)",
            file=sys.stderr,
            flush=True,
        )
        return 1
    base = server_url(HOST, port)
    os.environ.setdefault("DJANGO_SETTINGS_MODULE", "config.settings.dev")
    os.environ["TESSERA_SERVER_URL"] = base

    def handle_signal(signum: int, _frame: object) -> None:
        raise KeyboardInterrupt

    signal.signal(signal.SIGTERM, handle_signal)
    processes: dict[str, subprocess.Popen[bytes]] = {}
    try:
        manage("run_prepare")
        # The web server first, alone: on two cores three Django processes starting together
        # take twice as long for the one that matters to a person waiting.
        processes["web"] = start("web", web_command(HOST, port))
        healthy = wait_healthy(f"{base}/health/", processes["web"], HEALTHY_WITHIN_SECONDS)
        processes["worker"] = start(
            "worker",
            [
                str(BIN / "celery"),
                "-A",
                "config",
                "worker",
                "-l",
                "INFO",
                "--concurrency",
                "2",
                "--hostname",
                "tessera@%h",
            ],
        )
        processes["beat"] = start(
            "beat",
            [str(BIN / "celery"), "-A", "config", "beat", "-l", "INFO", "--pidfile", ""],
        )
        if not healthy:
            code = processes["web"].poll()
            reason = (
                f"exited with {code}"
                if code is not None
                else f"did not answer {base}/health/ within {HEALTHY_WITHIN_SECONDS:.0f} s"
            )
            print(f"[run] the web server {reason}; stopping", file=sys.stderr, flush=True)
            return 1
        print(
            "\n"
            f"  Tessera is running at {base}/  (ready in {time.monotonic() - started:.1f} s)\n"
            f"  API docs:      {base}/api/docs\n"
            f"  OpenAPI:       {base}/api/openapi.json\n"
            f"  Admin:         {base}/admin/\n"
            f"  Health:        {base}/health/  (ready: {base}/health/ready)\n"
            f"  Admin login:   {admin_login()}\n"
            "  Latest codes:  .venv/bin/python manage.py outbox --to <email or phone> --code\n"
            "  Ctrl-C stops the web server, the worker and the scheduler.\n",
            flush=True,
        )
        while True:
            for name, process in processes.items():
                if process.poll() is not None:
                    print(f"[run] {name} exited with {process.returncode}; stopping", flush=True)
                    return 1
            time.sleep(0.5)
    except KeyboardInterrupt:
        print("\n[run] stopping…", flush=True)
        return 0
    except subprocess.CalledProcessError as exc:
        print(f"[run] {' '.join(exc.cmd[1:])} failed with {exc.returncode}", flush=True)
        return 1
    finally:
        stop(processes)


if __name__ == "__main__":
    sys.exit(main())
