"""What CPython's thread switch interval costs and buys (docs/decisions/0014).

    .venv/bin/python bench/gil/switch_interval.py [--intervals 5,1,0.5,0.2,0.1] [--repeats 3]

In this one process, for each interval (milliseconds):

- wake-up delay: the main thread sleeps 1 ms (releasing the GIL, as a request thread does
  while granian hands it the next request) while a second thread runs Python code; how
  late it gets back to work beyond the 1 ms is how long it waited for the GIL. This is the
  wait a request on one blocking thread can suffer behind its sibling's request.
- contention cost: two threads each run the same pure-Python loop at once, against one
  thread running both loops in turn; the extra wall time is what the forced switches cost
  when both threads have work.

Writes bench/results/gil-switch-<stamp>.json and .md. Nothing here asserts a timing.
"""

from __future__ import annotations

import argparse
import json
import statistics
import sys
import threading
import time
from datetime import UTC, datetime
from pathlib import Path
from typing import Any

REPO = Path(__file__).resolve().parents[2]
sys.path.insert(0, str(REPO / "bench"))

from benchlib.machine import describe  # noqa: E402
from benchlib.report import md_table  # noqa: E402

RESULTS = REPO / "bench" / "results"
NAP_S = 0.001


def _spin(stop: threading.Event) -> None:
    count = 0
    while not stop.is_set():
        count += 1


def wake_delays_ms(samples: int) -> list[float]:
    """How late a thread returning from a 1 ms sleep runs again, while another spins."""
    stop = threading.Event()
    spinner = threading.Thread(target=_spin, args=(stop,))
    spinner.start()
    delays = []
    try:
        for _ in range(samples):
            started = time.perf_counter()
            time.sleep(NAP_S)
            delays.append((time.perf_counter() - started - NAP_S) * 1000)
    finally:
        stop.set()
        spinner.join()
    return delays


def _burn(iterations: int) -> int:
    total = 0
    for i in range(iterations):
        total += i
    return total


def contention_cost(iterations: int) -> float:
    """Extra wall time of two threads burning together over one thread burning twice."""
    started = time.perf_counter()
    _burn(iterations)
    _burn(iterations)
    alone = time.perf_counter() - started
    threads = [threading.Thread(target=_burn, args=(iterations,)) for _ in range(2)]
    started = time.perf_counter()
    for thread in threads:
        thread.start()
    for thread in threads:
        thread.join()
    together = time.perf_counter() - started
    return together / alone - 1


def percentile(values: list[float], fraction: float) -> float:
    ordered = sorted(values)
    return ordered[min(len(ordered) - 1, int(fraction * len(ordered)))]


def main() -> None:
    parser = argparse.ArgumentParser()
    parser.add_argument("--intervals", default="5,1,0.5,0.2,0.1")
    parser.add_argument("--samples", type=int, default=500)
    parser.add_argument("--iterations", type=int, default=5_000_000)
    parser.add_argument("--repeats", type=int, default=3)
    args = parser.parse_args()
    intervals = [float(value) for value in args.intervals.split(",")]
    machine = describe(REPO)
    default = sys.getswitchinterval()
    rows: dict[str, dict[str, Any]] = {}
    try:
        for interval in intervals:
            sys.setswitchinterval(interval / 1000)
            delays = wake_delays_ms(args.samples)
            costs = [contention_cost(args.iterations) for _ in range(args.repeats)]
            rows[f"{interval:g}"] = {
                "wake_delay_p50_ms": round(statistics.median(delays), 3),
                "wake_delay_p99_ms": round(percentile(delays, 0.99), 3),
                "wake_delay_max_ms": round(max(delays), 3),
                "contention_cost_pct": round(100 * statistics.median(costs), 1),
            }
            print(f"{interval:g} ms: {rows[f'{interval:g}']}", flush=True)
    finally:
        sys.setswitchinterval(default)

    stamp = datetime.now(tz=UTC).strftime("%Y%m%dT%H%M%SZ")
    RESULTS.mkdir(parents=True, exist_ok=True)
    report = {"machine": machine, "args": vars(args), "by_interval_ms": rows}
    (RESULTS / f"gil-switch-{stamp}.json").write_text(json.dumps(report, indent=2) + "\n")
    lines = [
        f"# CPython thread switch interval, {stamp}",
        "",
        (
            f"Wake-up delay: a thread back from a {NAP_S * 1000:g} ms sleep while another runs "
            f"Python, {args.samples} samples. Contention cost: two threads running "
            f"{args.iterations:,} loop iterations each at once, over one thread running both "
            f"in turn (median of {args.repeats})."
        ),
        "",
        *md_table(
            ["interval ms", "wake-up delay p50 ms", "p99 ms", "max ms", "contention cost"],
            [
                [
                    interval,
                    row["wake_delay_p50_ms"],
                    row["wake_delay_p99_ms"],
                    row["wake_delay_max_ms"],
                    f"{row['contention_cost_pct']}%",
                ]
                for interval, row in rows.items()
            ],
        ),
        "",
        f"Machine: {json.dumps(machine)[:2000]}",
    ]
    (RESULTS / f"gil-switch-{stamp}.md").write_text("\n".join(lines) + "\n")
    print("\n".join(lines[:-2]))


if __name__ == "__main__":
    main()
