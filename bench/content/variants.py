"""The production command in variants, on the website document (docs/decisions/0014).

    .venv/bin/python bench/content/variants.py [--intervals 5,1,0.5,0.2,0.1] [--one-thread]
        [--uncached] [--rounds 6] [--duration 10] [--connections 64]

Starts one server per variant, all at once and idle between turns, then loads them in
interleaved rounds (`A B C … A B C …`) with `wrk -t1 -cN` on `GET /api/website-data/`:

- one server per thread switch interval in `--intervals` (milliseconds,
  `SERVER_SWITCH_INTERVAL_MS`): granian WSGI, 2 workers, `--blocking-threads 2`, the
  production command;
- `--one-thread`: also the production command with `--blocking-threads 1` at the default
  interval;
- `--uncached`: every server builds the document from the database on every request
  (`CONTENT_CACHE_ENABLED=false`), the heaviest route, to see what the interval costs when
  both threads of a worker are busy.

Medians over rounds, and for each variant the number of rounds in which its p99 was lower
than the first variant's in the same round. Uses run.py's database and settings; writes
bench/results/content-variants-<stamp>.json and .md.
"""

from __future__ import annotations

import argparse
import json
import statistics
from datetime import UTC, datetime
from typing import Any

import run as content
from benchlib.machine import describe
from benchlib.report import md_table


def main() -> None:
    parser = argparse.ArgumentParser()
    parser.add_argument("--intervals", default="5,1,0.5,0.2,0.1")
    parser.add_argument("--one-thread", action="store_true")
    parser.add_argument("--uncached", action="store_true")
    parser.add_argument("--rounds", type=int, default=6)
    parser.add_argument("--duration", type=int, default=10)
    parser.add_argument("--connections", type=int, default=64)
    args = parser.parse_args()
    content.RESULTS.mkdir(parents=True, exist_ok=True)
    machine = describe(content.REPO)
    content.prepare_database()
    base_env = content.env_for(cache_enabled=not args.uncached)

    variants: dict[str, tuple[list[str], dict[str, str]]] = {}
    port = 8721
    for interval in args.intervals.split(","):
        env = {**base_env, "SERVER_SWITCH_INTERVAL_MS": interval}
        variants[f"switch {interval} ms"] = (content.server_command(port), env)
        port += 1
    if args.one_thread:
        variants["one thread"] = (content.server_command(port, threads=1), base_env)
    urls: dict[str, str] = {}
    runs: dict[str, list[dict[str, Any]]] = {name: [] for name in variants}
    try:
        for name, (argv, env) in variants.items():
            content.start(argv, env, "variant-" + name.replace(" ", "-"))
            urls[name] = f"http://127.0.0.1:{argv[argv.index('--port') + 1]}{content.PATH}"
        for url in urls.values():
            content.wait_ready(url)
            content.wrk(url, duration=2, connections=args.connections, headers=[])
        for round_no in range(1, args.rounds + 1):
            for name, url in urls.items():
                result = content.wrk(
                    url, duration=args.duration, connections=args.connections, headers=[]
                )
                runs[name].append(result)
                content.log(
                    f"round {round_no} {name}: {result['rps']:.0f} req/s, "
                    f"p99 {result['p99_ms']:.2f} ms"
                )
    finally:
        content.stop_all()

    first = next(iter(runs))
    summary = {
        name: {
            "rps": round(statistics.median(r["rps"] for r in results)),
            "p99_ms": round(statistics.median(r["p99_ms"] for r in results), 2),
            "errors": sum(r["non_2xx_3xx"] + r["socket_errors"] for r in results),
            "rounds_p99_below_first": sum(
                mine["p99_ms"] < theirs["p99_ms"]
                for mine, theirs in zip(results, runs[first], strict=True)
            ),
        }
        for name, results in runs.items()
    }
    stamp = datetime.now(tz=UTC).strftime("%Y%m%dT%H%M%SZ")
    report = {"machine": machine, "args": vars(args), "summary": summary, "runs": runs}
    out = content.RESULTS / f"content-variants-{stamp}"
    out.with_suffix(".json").write_text(json.dumps(report, indent=2) + "\n")
    document = "built from the database every request" if args.uncached else "cached"
    lines = [
        f"# Production command variants, website document ({document}), {stamp}",
        "",
        (
            f"wrk -t1 -c{args.connections}, {args.duration} s x {args.rounds} interleaved "
            "rounds, medians; granian WSGI 2 workers, `--blocking-threads 2` unless named."
        ),
        "",
        *md_table(
            ["variant", "req/s", "p99 ms", "errors", f"rounds with p99 below {first}"],
            [
                [
                    name,
                    item["rps"],
                    item["p99_ms"],
                    item["errors"],
                    f"{item['rounds_p99_below_first']} of {args.rounds}",
                ]
                for name, item in summary.items()
            ],
        ),
        "",
        f"Machine: {json.dumps(machine)[:2000]}",
    ]
    out.with_suffix(".md").write_text("\n".join(lines) + "\n")
    print("\n".join(lines[:-2]))


if __name__ == "__main__":
    main()
