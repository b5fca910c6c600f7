"""Open-loop load: requests sent at a fixed rate over keep-alive connections, each one's
latency measured from the moment it was *scheduled*, not from when it could be sent.

wrk's closed loop keeps every connection busy: at 64 connections a server that answers
R requests a second shows a mean latency of 64/R whatever its code does (Little's law),
so its p99 is a throughput figure. A gateway or an app does not wait for one reply before
the next person acts: requests arrive at a rate. Here job n is due at `start + n / rate`
on connection `n % connections`; if that connection is still waiting for an earlier reply,
the job waits too and the wait counts in its latency (no coordinated omission: a stall
shows in every request it delays).

One asyncio loop writes HTTP/1.1 by hand and reads Content-Length replies, so the client
costs a few tens of microseconds a request and stays out of the server's way on a small
machine. Only what the benches send: no chunked replies, no redirects.
"""

from __future__ import annotations

import asyncio
import time
from collections.abc import Callable, Sequence
from dataclasses import dataclass, field
from typing import Any


@dataclass(frozen=True, slots=True)
class Job:
    method: str
    path: str
    body: bytes = b""
    headers: tuple[tuple[str, str], ...] = ()


@dataclass(slots=True)
class Reply:
    status: int
    body: bytes


@dataclass(slots=True)
class _Tally:
    latencies_ms: list[float] = field(default_factory=list)
    statuses: dict[int, int] = field(default_factory=dict)
    socket_errors: int = 0


def _request_bytes(job: Job, host: str, common: Sequence[tuple[str, str]]) -> bytes:
    lines = [f"{job.method} {job.path} HTTP/1.1", f"Host: {host}"]
    lines += [f"{name}: {value}" for name, value in (*common, *job.headers)]
    if job.body or job.method in {"POST", "PUT", "PATCH"}:
        lines.append(f"Content-Length: {len(job.body)}")
    return ("\r\n".join(lines) + "\r\n\r\n").encode("latin-1") + job.body


async def _read_reply(reader: asyncio.StreamReader) -> Reply:
    head = await reader.readuntil(b"\r\n\r\n")
    status_line, _, header_block = head.partition(b"\r\n")
    status = int(status_line.split(b" ", 2)[1])
    length = 0
    for line in header_block.split(b"\r\n"):
        name, _, value = line.partition(b":")
        if name.strip().lower() == b"content-length":
            length = int(value.strip())
    body = await reader.readexactly(length) if length else b""
    return Reply(status=status, body=body)


async def _connection(
    address: tuple[str, int],
    jobs: list[tuple[float, bytes]],
    indexes: list[int],
    tally: _Tally,
    on_reply: Callable[[int, Reply], None] | None,
) -> None:
    loop = asyncio.get_running_loop()
    host, port = address
    reader, writer = await asyncio.open_connection(host, port)
    try:
        for (due, payload), index in zip(jobs, indexes, strict=True):
            wait = due - loop.time()
            if wait > 0:
                await asyncio.sleep(wait)
            try:
                writer.write(payload)
                reply = await _read_reply(reader)
            except (OSError, asyncio.IncompleteReadError):
                tally.socket_errors += 1
                writer.close()
                reader, writer = await asyncio.open_connection(host, port)
                continue
            tally.latencies_ms.append((loop.time() - due) * 1000)
            tally.statuses[reply.status] = tally.statuses.get(reply.status, 0) + 1
            if on_reply is not None:
                on_reply(index, reply)
    finally:
        writer.close()


def _percentile(ordered: list[float], fraction: float) -> float:
    if not ordered:
        return 0.0
    return ordered[min(len(ordered) - 1, max(0, int(len(ordered) * fraction + 0.5) - 1))]


def run_paced(
    port: int,
    jobs: Sequence[Job],
    *,
    rate: float,
    connections: int,
    headers: Sequence[tuple[str, str]] = (),
    on_reply: Callable[[int, Reply], None] | None = None,
    host: str = "127.0.0.1",
    timeout_s: float = 30.0,
) -> dict[str, Any]:
    """Send `jobs` in order at `rate` a second over `connections` keep-alive connections;
    latency percentiles (ms, from each job's due time), statuses, the rate achieved.
    `on_reply(job_index, reply)` sees every answer (to tally what a bench's replies say)."""

    async def main() -> tuple[_Tally, float]:
        loop = asyncio.get_running_loop()
        start = loop.time() + 0.5  # every connection open before the first job is due
        tally = _Tally()
        plans: list[list[tuple[float, bytes]]] = [[] for _ in range(connections)]
        indexes: list[list[int]] = [[] for _ in range(connections)]
        for n, job in enumerate(jobs):
            plans[n % connections].append(
                (start + n / rate, _request_bytes(job, f"{host}:{port}", headers))
            )
            indexes[n % connections].append(n)
        began = time.perf_counter()
        # One deadline for the whole run (a timer per request would cost more than the
        # request): a server that stops answering fails the run instead of hanging it.
        await asyncio.wait_for(
            asyncio.gather(
                *(
                    _connection((host, port), plan, index, tally, on_reply)
                    for plan, index in zip(plans, indexes, strict=True)
                )
            ),
            len(jobs) / rate + timeout_s,
        )
        return tally, time.perf_counter() - began - 0.5

    cpu = time.process_time()
    tally, wall = asyncio.run(main())
    cpu = time.process_time() - cpu
    ordered = sorted(tally.latencies_ms)
    answered = len(ordered)
    return {
        "requests": answered,
        "offered_rps": round(rate, 1),
        "achieved_rps": round(answered / wall, 1) if wall > 0 else 0.0,
        "connections": connections,
        "wall_s": round(wall, 2),
        "p50_ms": round(_percentile(ordered, 0.50), 2),
        "p90_ms": round(_percentile(ordered, 0.90), 2),
        "p99_ms": round(_percentile(ordered, 0.99), 2),
        "max_ms": round(ordered[-1], 2) if ordered else 0.0,
        "statuses": dict(sorted(tally.statuses.items())),
        "socket_errors": tally.socket_errors,
        "errors": tally.socket_errors + sum(c for s, c in tally.statuses.items() if s >= 400),
        # The load generator shares the machine: its own CPU per request, to weigh against
        # the server's.
        "client_cpu_us_per_request": round(cpu / max(1, len(jobs)) * 1e6, 1),
    }
