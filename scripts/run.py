"""`make run`: set up the embedded default and run the whole system.

Migrates, creates the cache table, loads demo data (idempotent), ensures an admin account,
then starts the web server, a Celery worker and the beat scheduler, prints where everything
is, and stops every child on Ctrl-C.
"""

from __future__ import annotations

import contextlib
import os
import signal
import subprocess
import sys
import time
import urllib.request
from pathlib import Path

ROOT = Path(__file__).resolve().parent.parent
BIN = ROOT / ".venv" / "bin"
HOST = os.environ.get("HOST", "127.0.0.1")
PORT = os.environ.get("PORT", "8000")


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


def wait_healthy(url: str, timeout: float = 30) -> bool:
    deadline = time.monotonic() + timeout
    while time.monotonic() < deadline:
        try:
            with urllib.request.urlopen(url, timeout=2) as response:  # noqa: S310 - local URL
                if response.status == 200:
                    return True
        except OSError:
            time.sleep(0.2)
    return False


def main() -> int:
    os.environ.setdefault("DJANGO_SETTINGS_MODULE", "config.settings.dev")
    manage("migrate", "--noinput", "-v", "0")
    manage("createcachetable")
    manage("seed_demo")

    base = f"http://{HOST}:{PORT}"
    processes = {
        "web": start(
            "web",
            [
                str(BIN / "granian"),
                "--interface",
                "wsgi",
                "config.wsgi:application",
                "--host",
                HOST,
                "--port",
                PORT,
                "--workers",
                "1",
                "--blocking-threads",
                "2",
                "--no-access-log",
                "--log-level",
                "warning",
            ],
        ),
        "worker": start(
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
        ),
        "beat": start(
            "beat",
            [str(BIN / "celery"), "-A", "config", "beat", "-l", "INFO", "--pidfile", ""],
        ),
    }

    def handle_signal(signum: int, _frame: object) -> None:
        raise KeyboardInterrupt

    signal.signal(signal.SIGTERM, handle_signal)
    try:
        if wait_healthy(f"{base}/health/"):
            print(
                "\n"
                f"  Tessera is running at {base}/\n"
                f"  API docs:      {base}/api/docs\n"
                f"  OpenAPI:       {base}/api/openapi.json\n"
                f"  Admin:         {base}/admin/\n"
                f"  Health:        {base}/health/  (ready: {base}/health/ready)\n"
                f"  Admin login:   {admin_login()}\n"
                "  Ctrl-C stops the web server, the worker and the scheduler.\n",
                flush=True,
            )
        else:
            print("[run] the web server did not become healthy in 30 s", flush=True)
        while True:
            for name, process in processes.items():
                if process.poll() is not None:
                    print(f"[run] {name} exited with {process.returncode}; stopping", flush=True)
                    return 1
            time.sleep(0.5)
    except KeyboardInterrupt:
        print("\n[run] stopping…", flush=True)
        return 0
    finally:
        stop(processes)


if __name__ == "__main__":
    sys.exit(main())
