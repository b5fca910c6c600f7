"""Where a load run's CPU went: the web server, PostgreSQL, Redis, the load client and the
rest of the machine, per request, and what that says about the closed loop's latency.

A closed loop of N connections answering R requests a second has a mean latency of N / R
(Little's law), so its p99 is at least N / R. R in turn is at most the machine's cores divided
by the CPU one request costs across every process that serves it. `capacity()` turns a
run's split into those two bounds, and into the bound that holds even if the web server's
own code cost nothing: the floor the database and the client alone set.
"""

from __future__ import annotations

from collections.abc import Callable
from dataclasses import dataclass, field
from typing import Any

import psutil

# A process's class, from its name. Everything else the machine ran lands in "other".
_CLASSES = {
    "postgres": "postgres",
    "redis-server": "redis",
    "beam.smp": "rabbitmq",
}


def _cpu_seconds(proc: psutil.Process) -> float | None:
    try:
        times = proc.cpu_times()
    except (psutil.NoSuchProcess, psutil.AccessDenied):
        return None
    return float(times.user + times.system)


def _machine_times() -> tuple[float, float]:
    """CPU seconds the machine's cores were busy, and were stolen by the hypervisor (a virtual
    machine's cores are not always its own: what is stolen ran nothing of ours)."""
    times = psutil.cpu_times()
    steal = getattr(times, "steal", 0.0)
    # Linux counts guest time inside user time; idle, waiting for I/O and stolen are not busy.
    idle = times.idle + getattr(times, "iowait", 0.0) + steal
    guest = getattr(times, "guest", 0.0) + getattr(times, "guest_nice", 0.0)
    return float(sum(times) - idle - guest), float(steal)


@dataclass
class CpuSplit:
    """Use as a context manager around one load run.

    `web` lists the web server's processes (a `Managed.tree`), `worker` the task workers' if
    the run has any; the load client's CPU is given afterwards (`client_cpu_s`, wrk's rusage
    or the bench's own), since it runs as this process's child or in it. A process that starts
    during the run counts from 0; one that ends during it is lost, which "other" then shows."""

    web: Callable[[], list[psutil.Process]]
    worker: Callable[[], list[psutil.Process]] = list
    _start: dict[int, tuple[str, float]] = field(default_factory=dict)
    _end: dict[int, tuple[str, float]] = field(default_factory=dict)
    _busy: float = 0.0
    _steal: float = 0.0

    def _snapshot(self) -> dict[int, tuple[str, float]]:
        seen: dict[int, tuple[str, float]] = {}
        for kind, listed in (("web", self.web), ("worker", self.worker)):
            for proc in listed():
                cpu = _cpu_seconds(proc)
                if cpu is not None:
                    seen[proc.pid] = (kind, cpu)
        for proc in psutil.process_iter(["name"]):
            kind = _CLASSES.get(proc.info["name"] or "")
            if kind is None or proc.pid in seen:
                continue
            cpu = _cpu_seconds(proc)
            if cpu is not None:
                seen[proc.pid] = (kind, cpu)
        return seen

    def __enter__(self) -> CpuSplit:
        self._start = self._snapshot()
        busy, steal = _machine_times()
        self._busy, self._steal = -busy, -steal
        return self

    def __exit__(self, *exc: object) -> None:
        busy, steal = _machine_times()
        self._busy += busy
        self._steal += steal
        self._end = self._snapshot()

    def result(self, *, requests: int, client_cpu_s: float) -> dict[str, Any]:
        """CPU milliseconds per request by class; `other` is the machine's busy time that no
        class accounts for (the bench itself, the kernel's own threads, other programs)."""
        seconds = dict.fromkeys(("web", "worker", "postgres", "redis", "rabbitmq"), 0.0)
        for pid, (kind, cpu) in self._end.items():
            seconds[kind] += cpu - self._start.get(pid, (kind, 0.0))[1]
        seconds["client"] = client_cpu_s
        seconds["other"] = max(0.0, self._busy - sum(seconds.values()))
        per = max(1, requests)
        split = {kind: round(value * 1000 / per, 3) for kind, value in seconds.items()}
        return {
            "requests": requests,
            "machine_busy_s": round(self._busy, 3),
            "stolen_s": round(self._steal, 3),
            "cpu_ms_per_request": split,
            "total_ms_per_request": round(self._busy * 1000 / per, 3),
            "stolen_ms_per_request": round(self._steal * 1000 / per, 3),
        }


def capacity(
    split: dict[str, Any], *, connections: int, cores: int | None = None
) -> dict[str, Any]:
    """The bounds a split sets on a closed loop of `connections` on `cores` cores.

    `ceiling_rps`: cores / the CPU of one request in the processes that serve it (the web
    server, the data stores, the client; not "other", so the bound is generous); at that rate
    the mean latency is `mean_floor_ms`, which no scheduling can beat. `without_web_*`: the same
    with the web server's CPU taken out, i.e. what the data stores and the client alone allow.
    """
    cores = cores or psutil.cpu_count() or 1
    per = split["cpu_ms_per_request"]
    total = sum(value for kind, value in per.items() if kind != "other")
    without_web = total - per["web"]

    def bound(ms: float) -> tuple[float | None, float | None]:
        if ms <= 0:
            return None, None
        rps = cores * 1000 / ms
        return round(rps, 1), round(connections * 1000 / rps, 2)

    ceiling, mean_floor = bound(total)
    ceiling_no_web, mean_floor_no_web = bound(without_web)
    return {
        "cores": cores,
        "connections": connections,
        "ceiling_rps": ceiling,
        "mean_floor_ms": mean_floor,
        "without_web_ceiling_rps": ceiling_no_web,
        "without_web_mean_floor_ms": mean_floor_no_web,
    }


_COLUMNS = ("web", "worker", "postgres", "redis", "rabbitmq", "client", "other")


def split_table(rows: list[tuple[str, dict[str, Any]]]) -> list[str]:
    """A markdown table of (label, split with its "bounds") rows: ms per request by process
    class (a class no row used is left out), the served total, the time the hypervisor took
    from the machine's cores, then the bounds."""
    used = [k for k in _COLUMNS if any(cpu["cpu_ms_per_request"].get(k) for _, cpu in rows)]
    header = [
        "row",
        *(f"{kind} ms" for kind in used),
        "served ms",
        "stolen ms",
        "ceiling req/s",
        "mean floor ms",
        "floor ms, web free",
    ]
    lines = ["| " + " | ".join(header) + " |", "|" + "---|" * len(header)]
    for label, cpu in rows:
        per, bounds = cpu["cpu_ms_per_request"], cpu["bounds"]
        served = sum(value for kind, value in per.items() if kind != "other")
        cells = [
            label,
            *(per.get(kind, 0.0) for kind in used),
            round(served, 3),
            cpu.get("stolen_ms_per_request", 0.0),
            bounds["ceiling_rps"],
            bounds["mean_floor_ms"],
            bounds["without_web_mean_floor_ms"],
        ]
        lines.append("| " + " | ".join(str(cell) for cell in cells) + " |")
    return lines
