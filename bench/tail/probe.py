"""Investigation only: `config.wsgi:application` with per-request timing inside the worker.

Served as `bench.tail.probe:application` by bench/tail/run.py `--probe`. Each worker writes
`$TAIL_PROBE_DIR/probe-<pid>.json` at exit (and every 5 s): a histogram of in-process
service times, every request slower than 40 ms (start, duration, thread, path, the
collector's passes that overlapped it), and every gc pass with its generation and length.
"""

from __future__ import annotations

import atexit
import contextlib
import gc
import json
import os
import threading
import time
from pathlib import Path
from typing import Any

from config.wsgi import application as _inner

if os.environ.get("TAIL_PREWARM") == "1":
    # The candidate fix, tried before it is made in config/wsgi.py: the URLconf (every app's
    # api module, the NinjaAPI) loaded at start-up and frozen with the rest.
    from django.urls import get_resolver

    _resolver = get_resolver()
    _resolver.url_patterns  # noqa: B018
    _resolver.reverse_dict  # noqa: B018
    gc.collect()
    gc.freeze()

_DIR = Path(os.environ.get("TAIL_PROBE_DIR", "."))
_SLOW_S = 0.040
_T0 = time.perf_counter()
_lock = threading.Lock()
_gc_passes: list[tuple[float, float, int, int]] = []  # start, ms, generation, collected
_gc_start: dict[str, Any] = {}
_slow: list[dict[str, Any]] = []
_buckets = [0.5, 1, 2, 5, 10, 20, 40, 80, 160, 1e9]
_hist = [0] * len(_buckets)
_count = 0
_concurrent = 0
_max_concurrent = 0


def _on_gc(phase: str, info: dict[str, Any]) -> None:
    now = time.perf_counter()
    if phase == "start":
        _gc_start["t"] = now
    else:
        started = _gc_start.get("t", now)
        _gc_passes.append(
            (started - _T0, (now - started) * 1000, info["generation"], info["collected"])
        )


gc.callbacks.append(_on_gc)


def _dump() -> None:
    passes = list(_gc_passes)
    by_gen: dict[int, list[float]] = {}
    for _s, ms, gen, _c in passes:
        by_gen.setdefault(gen, []).append(ms)
    data = {
        "pid": os.getpid(),
        "requests": _count,
        "max_concurrent": _max_concurrent,
        "service_ms_hist": dict(zip([str(b) for b in _buckets], _hist, strict=True)),
        "gc": {
            str(g): {"n": len(v), "max_ms": round(max(v), 2), "sum_ms": round(sum(v), 1)}
            for g, v in sorted(by_gen.items())
        },
        "gc_threshold": gc.get_threshold(),
        "slow": _slow[-400:],
        "gc_over_5ms": [p for p in passes if p[1] > 5][-200:],
    }
    (_DIR / f"probe-{os.getpid()}.json").write_text(json.dumps(data))


def _periodic() -> None:
    while True:
        time.sleep(5)
        with contextlib.suppress(Exception):  # investigation only
            _dump()


threading.Thread(target=_periodic, daemon=True).start()
atexit.register(_dump)


def application(environ: dict[str, Any], start_response: Any) -> Any:
    global _count, _concurrent, _max_concurrent  # noqa: PLW0603
    started = time.perf_counter()
    with _lock:
        _concurrent += 1
        _max_concurrent = max(_max_concurrent, _concurrent)
        seen = len(_gc_passes)
    try:
        body = _inner(environ, start_response)
        chunks = list(body)
        if hasattr(body, "close"):
            body.close()
        return chunks
    finally:
        done = time.perf_counter()
        ms = (done - started) * 1000
        with _lock:
            _concurrent -= 1
            _count += 1
            for i, bound in enumerate(_buckets):
                if ms <= bound:
                    _hist[i] += 1
                    break
            if ms > _SLOW_S * 1000:
                _slow.append(
                    {
                        "at": round(started - _T0, 4),
                        "ms": round(ms, 2),
                        "thread": threading.get_ident() % 10000,
                        "path": environ.get("PATH_INFO"),
                        "gc": [p for p in _gc_passes[seen:] if p[0] <= done - _T0],
                        "cpu_thread_ms": None,
                    }
                )
