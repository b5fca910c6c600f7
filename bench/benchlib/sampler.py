"""CPU time and peak RSS of a server's process tree, sampled with psutil during a load run."""

from __future__ import annotations

import contextlib
import threading
import time
from dataclasses import dataclass, field
from typing import Any

import psutil

from benchlib.procs import Managed


def _cpu(proc: psutil.Process) -> float | None:
    try:
        times = proc.cpu_times()
    except (psutil.NoSuchProcess, psutil.AccessDenied):
        return None
    return float(times.user + times.system)


def _rss(proc: psutil.Process) -> int | None:
    try:
        return int(proc.memory_info().rss)
    except (psutil.NoSuchProcess, psutil.AccessDenied):
        return None


def _system_busy() -> float:
    times = psutil.cpu_times()
    return float(sum(times) - times.idle - getattr(times, "iowait", 0.0))


@dataclass
class TreeSampler:
    """Use as a context manager around a load run.

    CPU seconds: for every process of the tree, its CPU time at the end (or when last seen)
    minus its CPU time at the start (0 for a process born during the run). Peak RSS: the
    largest sum of RSS over the tree among the samples, and the largest single process.
    """

    managed: Managed
    interval: float = 0.25
    _start_cpu: dict[int, float] = field(default_factory=dict)
    _last_cpu: dict[int, float] = field(default_factory=dict)
    _peak_tree_rss: int = 0
    _peak_proc_rss: int = 0
    _samples: int = 0
    _procs: int = 0
    _stop: threading.Event = field(default_factory=threading.Event)
    _thread: threading.Thread | None = None
    _sys_start: float = 0.0
    _sys_end: float = 0.0
    _t0: float = 0.0
    _t1: float = 0.0

    def _sample(self) -> None:
        total = 0
        procs = self.managed.tree()
        for proc in procs:
            cpu = _cpu(proc)
            if cpu is not None:
                self._last_cpu[proc.pid] = cpu
            rss = _rss(proc)
            if rss is not None:
                total += rss
                self._peak_proc_rss = max(self._peak_proc_rss, rss)
        self._peak_tree_rss = max(self._peak_tree_rss, total)
        self._procs = max(self._procs, len(procs))
        self._samples += 1

    def _loop(self) -> None:
        while not self._stop.wait(self.interval):
            with contextlib.suppress(Exception):
                self._sample()

    def __enter__(self) -> TreeSampler:
        for proc in self.managed.tree():
            cpu = _cpu(proc)
            if cpu is not None:
                self._start_cpu[proc.pid] = cpu
                self._last_cpu[proc.pid] = cpu
        self._sys_start = _system_busy()
        self._t0 = time.monotonic()
        self._sample()
        self._thread = threading.Thread(target=self._loop, name="tree-sampler", daemon=True)
        self._thread.start()
        return self

    def __exit__(self, *exc: object) -> None:
        self._stop.set()
        if self._thread is not None:
            self._thread.join(timeout=5)
        self._sample()
        self._sys_end = _system_busy()
        self._t1 = time.monotonic()

    def result(self) -> dict[str, Any]:
        cpu = sum(last - self._start_cpu.get(pid, 0.0) for pid, last in self._last_cpu.items())
        return {
            "server_cpu_s": round(cpu, 3),
            "system_busy_cpu_s": round(self._sys_end - self._sys_start, 3),
            "wall_s": round(self._t1 - self._t0, 3),
            "peak_tree_rss_mb": round(self._peak_tree_rss / 2**20, 1),
            "peak_process_rss_mb": round(self._peak_proc_rss / 2**20, 1),
            "processes": self._procs,
            "samples": self._samples,
        }
