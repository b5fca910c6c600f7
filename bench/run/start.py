"""How long `make run` takes to be healthy, cold (empty var directory) and warm (second start).

    .venv/bin/python bench/run/start.py [--repeats 3] [--baseline-rev b608ee0] [--port 18210]

For each repeat, in a fresh var directory: start `scripts/run.py` (cold), wait for its
banner, stop it with SIGTERM, start it again (warm), wait, stop. Times are from starting the
process to the banner, which is printed once `/health/` answers. The baseline is the same
measurement of `scripts/run.py` as it was at `--baseline-rev` (copied next to the current
one for the run, then removed), interleaved with the current script, repeat by repeat.

Writes bench/results/run-start-<stamp>.json and .md. Nothing here asserts a timing.
"""

from __future__ import annotations

import argparse
import json
import os
import shutil
import signal
import statistics
import subprocess
import sys
import tempfile
import time
from datetime import UTC, datetime
from pathlib import Path
from typing import Any

REPO = Path(__file__).resolve().parents[2]
sys.path.insert(0, str(REPO / "bench"))

from benchlib.machine import describe  # noqa: E402
from benchlib.report import md_table  # noqa: E402

RESULTS = REPO / "bench" / "results"
BANNER = "Ctrl-C stops"


def one_start(script: Path, var_dir: Path, port: int, timeout: float) -> tuple[float | None, str]:
    """Seconds from starting `script` to its banner, and its output."""
    env = {
        **{k: v for k, v in os.environ.items() if not k.startswith(("DJANGO_", "TEST_"))},
        "TESSERA_VAR_DIR": str(var_dir),
        "PORT": str(port),
        "HOST": "127.0.0.1",
    }
    started = time.monotonic()
    process = subprocess.Popen(
        [sys.executable, str(script)],
        cwd=REPO,
        env=env,
        stdout=subprocess.PIPE,
        stderr=subprocess.STDOUT,
        text=True,
    )
    if process.stdout is None:
        raise RuntimeError("no pipe")
    lines: list[str] = []
    elapsed: float | None = None
    for line in process.stdout:
        lines.append(line)
        if BANNER in line:
            elapsed = time.monotonic() - started
            break
        if time.monotonic() - started > timeout:
            break
    process.send_signal(signal.SIGTERM)
    rest, _ = process.communicate(timeout=60)
    return elapsed, "".join(lines) + rest


def main() -> int:
    parser = argparse.ArgumentParser(description=__doc__.split("\n\n")[0])
    parser.add_argument("--repeats", type=int, default=3)
    parser.add_argument("--baseline-rev", default="b608ee0")
    parser.add_argument("--port", type=int, default=18210)
    parser.add_argument("--timeout", type=float, default=300)
    args = parser.parse_args()

    baseline = REPO / "scripts" / f".run-baseline-{os.getpid()}.py"
    source = subprocess.run(
        ["git", "show", f"{args.baseline_rev}:scripts/run.py"],
        cwd=REPO,
        capture_output=True,
        text=True,
        check=True,
    ).stdout
    baseline.write_text(source)
    scripts = {"current": REPO / "scripts" / "run.py", "baseline": baseline}
    times: dict[str, dict[str, list[float]]] = {name: {"cold": [], "warm": []} for name in scripts}
    machine = describe(REPO)
    try:
        for repeat in range(args.repeats):
            for name, script in scripts.items():
                var_dir = Path(tempfile.mkdtemp(prefix="tessera_run_bench_"))
                try:
                    for kind in ("cold", "warm"):
                        seconds, output = one_start(script, var_dir, args.port, args.timeout)
                        if seconds is None:
                            print(output[-3000:])
                            raise SystemExit(f"{name} {kind}: no banner within {args.timeout} s")
                        times[name][kind].append(seconds)
                        print(f"repeat {repeat + 1} {name} {kind}: {seconds:.1f} s", flush=True)
                finally:
                    shutil.rmtree(var_dir, ignore_errors=True)
    finally:
        baseline.unlink(missing_ok=True)

    summary = {
        name: {kind: round(statistics.median(values), 2) for kind, values in kinds.items()}
        for name, kinds in times.items()
    }
    stamp = datetime.now(UTC).strftime("%Y%m%dT%H%M%SZ")
    result: dict[str, Any] = {
        "machine": machine,
        "baseline_rev": args.baseline_rev,
        "repeats": args.repeats,
        "seconds": times,
        "median_seconds": summary,
    }
    RESULTS.mkdir(parents=True, exist_ok=True)
    (RESULTS / f"run-start-{stamp}.json").write_text(json.dumps(result, indent=2))
    rows: list[list[object]] = [
        [
            name,
            f"{summary[name]['cold']:.1f}",
            f"{summary[name]['warm']:.1f}",
            ", ".join(f"{v:.1f}" for v in times[name]["cold"]),
            ", ".join(f"{v:.1f}" for v in times[name]["warm"]),
        ]
        for name in scripts
    ]
    lines = [
        f"# `make run` start, {stamp}",
        "",
        (
            "Seconds from starting scripts/run.py to its banner (after `/health/` answers); "
            f"median of {args.repeats}. Baseline: scripts/run.py at {args.baseline_rev}. "
            f"Load average at start: {machine['load_average_at_start']}."
        ),
        "",
        *md_table(["script", "cold", "warm", "cold runs", "warm runs"], rows),
        "",
    ]
    (RESULTS / f"run-start-{stamp}.md").write_text("\n".join(lines))
    print("\n".join(lines))
    return 0


if __name__ == "__main__":
    sys.exit(main())
