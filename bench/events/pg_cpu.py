"""PostgreSQL's CPU per distinct discovery search, measured on its own backend.

    .venv/bin/python bench/events/pg_cpu.py --database tessera_bench_events \
        [--searches 600] [--rounds 3] [--seed 7] [--explain 8]

Needs a database seeded by `bench/events/run.py --keep-database` (100,000 events). Runs the
events benchmark's distinct searches (`run.distinct_paths`: a word, each person's own point
and radius, dates) through discovery's selector (`event_discover`, no page cache, no HTTP) in
one process, on one connection, and reads that connection's backend's CPU time
(`/proc/<pid>/stat`, user + system) before and after: what PostgreSQL spends on a search —
parsing, planning, executing, sending its rows — and nothing else on the machine. Also counts
statements per search (the similar-word fallback is a second one) and, with `--explain N`,
prints `EXPLAIN (ANALYZE, BUFFERS)` of the first N searches' page statements.

The CPU clock ticks at 100 Hz: a round of a few hundred searches is a second or more of
backend CPU, so a round's figure is good to ~1%.
"""

from __future__ import annotations

import argparse
import os
import statistics
import sys
import time
from datetime import datetime
from pathlib import Path
from urllib.parse import parse_qs, urlsplit

REPO = Path(__file__).resolve().parents[2]
sys.path.insert(0, str(REPO))
sys.path.insert(0, str(Path(__file__).resolve().parent))


def _cpu_ticks(pid: int) -> int:
    # Fields 14 and 15 of /proc/<pid>/stat (after the command's parenthesis): utime, stime.
    fields = Path(f"/proc/{pid}/stat").read_text().rsplit(")", 1)[1].split()
    return int(fields[11]) + int(fields[12])


def main() -> int:
    parser = argparse.ArgumentParser(description=__doc__.split("\n\n")[0])
    parser.add_argument("--database", default="tessera_bench_events")
    parser.add_argument("--searches", type=int, default=600)
    parser.add_argument("--rounds", type=int, default=3)
    parser.add_argument("--seed", type=int, default=7)
    parser.add_argument("--explain", type=int, default=0, help="EXPLAIN the first N searches")
    args = parser.parse_args()

    from config.localprod import production_env

    os.environ.update(
        production_env(
            DATABASE_URL=f"postgresql://postgres@127.0.0.1:5432/{args.database}",
            EVENTS_DISCOVERY_CACHE_SECONDS="0",
            LOG_LEVEL="WARNING",
        )
    )
    import django

    django.setup()
    from django.db import connection
    from django.test.utils import CaptureQueriesContext
    from run import distinct_paths  # bench/events/run.py

    from tessera.events import selectors

    def search_of(path: str) -> selectors.Discovery:
        query = {k: v[0] for k, v in parse_qs(urlsplit(path).query).items()}
        return selectors.Discovery(
            text=query["q"],
            latitude=float(query["lat"]),
            longitude=float(query["lng"]),
            radius_km=float(query["radiusKm"]),
            starts_after=datetime.fromisoformat(query["from"]),
            starts_before=datetime.fromisoformat(query["to"]),
        )

    searches = [search_of(p) for p in distinct_paths(args.searches, seed=args.seed)]
    with connection.cursor() as cursor:
        cursor.execute("SELECT pg_backend_pid()")
        pid = cursor.fetchone()[0]
    tick_ms = 1000 / os.sysconf("SC_CLK_TCK")

    for search in searches[:20]:  # warm the catalogue caches and the compiled statements
        selectors.event_discover(search)
    with CaptureQueriesContext(connection) as queries:
        items = [len(selectors.event_discover(s).items) for s in searches]
    per_search = len(queries.captured_queries) / len(searches)
    print(
        f"{len(searches)} searches: {per_search:.2f} statements each, "
        f"{sum(1 for n in items if n == 0)} with no item, mean {statistics.mean(items):.1f} items"
    )
    if args.explain:
        with connection.cursor() as cursor:
            for sql in [q["sql"] for q in queries.captured_queries][: args.explain]:
                cursor.execute(f"EXPLAIN (ANALYZE, BUFFERS) {sql}")
                plan = [row[0] for row in cursor.fetchall()]
                print("\n".join(plan[-2:] if len(plan) > 60 else plan), "\n")

    figures = []
    for round_number in range(1, args.rounds + 1):
        began_cpu, began = _cpu_ticks(pid), time.perf_counter()
        for search in searches:
            selectors.event_discover(search)
        wall = (time.perf_counter() - began) * 1000 / len(searches)
        cpu = (_cpu_ticks(pid) - began_cpu) * tick_ms / len(searches)
        figures.append(cpu)
        print(f"round {round_number}: PostgreSQL {cpu:.3f} ms CPU a search; wall {wall:.3f} ms")
    print(f"median: PostgreSQL {statistics.median(figures):.3f} ms CPU a search")
    return 0


if __name__ == "__main__":
    raise SystemExit(main())
