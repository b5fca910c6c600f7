"""wrk: make sure it is installed, run it against 127.0.0.1, parse its summary."""

from __future__ import annotations

import json
import re
import resource
import shutil
import subprocess
from collections.abc import Sequence
from pathlib import Path
from typing import Any

from benchlib.procs import BenchError

LUA_SCRIPT = Path(__file__).resolve().parent.parent / "wrk" / "report.lua"
_MARKER = "WRK_JSON "


def _apt_get(*args: str) -> bool:
    if shutil.which("apt-get") is None:
        return False
    print(f"  $ apt-get {' '.join(args)}")
    result = subprocess.run(
        ["apt-get", *args],
        env={"DEBIAN_FRONTEND": "noninteractive", "PATH": "/usr/sbin:/usr/bin:/sbin:/bin"},
        capture_output=True,
        text=True,
    )
    if result.returncode != 0:
        print("    " + "\n    ".join(result.stderr.strip().splitlines()[-3:]))
    return result.returncode == 0


def ensure_wrk() -> str:
    """The path of wrk, installing it with apt-get when it is missing."""
    found = shutil.which("wrk")
    if found:
        return found
    print("wrk is not installed; installing it with apt-get")
    if not _apt_get("install", "-y", "wrk"):
        _apt_get("update")
        _apt_get("install", "-y", "wrk")
    found = shutil.which("wrk")
    if not found:
        raise BenchError(
            "wrk is not installed and `apt-get install -y wrk` did not install it (it needs root "
            "and a reachable Debian/Ubuntu mirror). Install wrk (https://github.com/wg/wrk) so "
            "that it is on PATH, then run the benchmark again."
        )
    return found


def wrk_version(wrk: str) -> str:
    result = subprocess.run([wrk, "-v"], capture_output=True, text=True)
    match = re.search(r"wrk\s+(\S+)", result.stdout + result.stderr)
    return match.group(1) if match else "unknown"


def run_wrk(
    wrk: str,
    url: str,
    *,
    duration: float,
    connections: int,
    threads: int = 1,
    timeout_s: int = 5,
    headers: Sequence[str] = (),
    script: Path = LUA_SCRIPT,
    script_args: Sequence[str] = (),
) -> dict[str, Any]:
    """One wrk run; returns its figures plus wrk's own CPU time (its rusage).

    `headers` are sent with every request (`"Name: value"`, wrk's `-H`); `script` is a Lua
    script that prints report.lua's line (bench/wrk/), given `script_args` after `--`."""
    cmd = [
        wrk,
        f"-t{threads}",
        f"-c{connections}",
        f"-d{max(1, round(duration))}s",
        f"--timeout={timeout_s}s",
        "--latency",
        *(arg for header in headers for arg in ("-H", header)),
        "-s",
        str(script),
        url,
        *(["--", *script_args] if script_args else []),
    ]
    before = resource.getrusage(resource.RUSAGE_CHILDREN)
    result = subprocess.run(cmd, capture_output=True, text=True, timeout=duration + 60)
    after = resource.getrusage(resource.RUSAGE_CHILDREN)
    line = next(
        (ln for ln in result.stdout.splitlines() if ln.startswith(_MARKER)),
        None,
    )
    if result.returncode != 0 or line is None:
        raise BenchError(
            f"wrk failed against {url} (exit {result.returncode}):\n"
            f"{result.stdout[-2000:]}\n{result.stderr[-2000:]}"
        )
    data: dict[str, Any] = json.loads(line[len(_MARKER) :])
    seconds = data["duration_us"] / 1e6
    errors = data["errors"]
    data["seconds"] = seconds
    data["rps"] = data["requests"] / seconds if seconds else 0.0
    data["socket_errors"] = errors["connect"] + errors["read"] + errors["write"] + errors["timeout"]
    data["non_2xx"] = errors["status"]
    data["error_total"] = data["socket_errors"] + data["non_2xx"]
    data["wrk_cpu_s"] = round(
        (after.ru_utime - before.ru_utime) + (after.ru_stime - before.ru_stime), 3
    )
    # As a reader would type it: report.lua is wrk's usual companion here, so it goes
    # unsaid; another script is named from the repository's root.
    shown = [*cmd[:-3], url] if script == LUA_SCRIPT else cmd
    data["command"] = " ".join(arg.replace(str(LUA_SCRIPT.parents[2]) + "/", "") for arg in shown)
    return data
