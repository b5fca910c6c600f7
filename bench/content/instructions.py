"""Instructions per edge reply of GET /api/website-data/, counted by callgrind.

    .venv/bin/python bench/content/instructions.py [--requests 2000]

Wall-clock time on a shared VM moves by ±30% between runs; the number of instructions the
request path executes does not (the same code, the same inputs, the same total every run).
This runs the WSGI application in-process, as granian's worker would call it, under
`valgrind --tool=callgrind` with collection switched on only inside the measured loop (the
loop is driven by `itertools.starmap`, so `--toggle-collect=starmap_next` counts exactly
the requests), for a 200 and for a 304. Each count takes ~90 s, most of it Django starting
under valgrind.

Uses the database and Redis db run.py prepares (run it first). Writes JSON and Markdown to
bench/results/edge-instructions-<time>.*.
"""

from __future__ import annotations

import argparse
import itertools
import json
import re
import subprocess
import sys
import time
from datetime import UTC, datetime
from pathlib import Path

REPO = Path(__file__).resolve().parents[2]
HERE = Path(__file__).resolve().parent
RESULTS = REPO / "bench" / "results"
sys.path.insert(0, str(HERE))

import run as content_bench  # noqa: E402  (this folder's run.py: its environment and path)

ENVIRON = {
    "REQUEST_METHOD": "GET",
    "PATH_INFO": content_bench.PATH,
    "QUERY_STRING": "",
    "HTTP_HOST": "127.0.0.1",
    "SERVER_NAME": "127.0.0.1",
    "SERVER_PORT": "80",
    "SERVER_PROTOCOL": "HTTP/1.1",
    "REMOTE_ADDR": "127.0.0.1",
    "wsgi.url_scheme": "http",
}


def measured_loop(requests: int, case: str) -> None:
    """Inside valgrind: warm the path up, then run `requests` requests under starmap."""
    sys.path.insert(0, str(REPO))
    from config.wsgi import application

    seen: dict[str, object] = {}

    def start_response(status: str, headers: list[tuple[str, str]], exc_info: object = None):
        seen["status"], seen["headers"] = status, dict(headers)

    application(dict(ENVIRON), start_response)  # a cold cache is rebuilt here, by Django
    time.sleep(0.5)  # the near cache's listener connects
    for _ in range(300):
        application(dict(ENVIRON), start_response)
    environ = dict(ENVIRON)
    if case == "304":
        environ["HTTP_IF_NONE_MATCH"] = str(seen["headers"]["ETag"])  # type: ignore[index]

    def one(_index: int) -> object:
        return application(dict(environ), start_response)

    list(itertools.starmap(one, ((i,) for i in range(requests))))
    print(f"status {seen['status']}", flush=True)


def count(requests: int, case: str) -> dict[str, object]:
    env = {**content_bench.env_for(cache_enabled=True), "PYTHONHASHSEED": "0"}
    cmd = [
        "valgrind",
        "--tool=callgrind",
        "--callgrind-out-file=/dev/null",
        "--toggle-collect=starmap_next",
        sys.executable,
        __file__,
        "--inside",
        case,
        "--requests",
        str(requests),
    ]
    out = subprocess.run(cmd, cwd=REPO, env=env, capture_output=True, text=True, check=True)
    collected = re.search(r"Collected : (\d+)", out.stderr)
    status = re.search(r"status (\d+)", out.stdout)
    if collected is None or status is None:
        raise SystemExit(f"no count for {case}:\n{out.stdout}\n{out.stderr[-2000:]}")
    return {
        "status": int(status.group(1)),
        "instructions_per_request": round(int(collected.group(1)) / requests),
    }


def main() -> None:
    parser = argparse.ArgumentParser()
    parser.add_argument("--requests", type=int, default=2000)
    parser.add_argument("--inside", choices=["200", "304"])
    args = parser.parse_args()
    if args.inside:
        measured_loop(args.requests, args.inside)
        return
    counts = {case: count(args.requests, case) for case in ("200", "304")}
    commit = subprocess.run(
        ["git", "rev-parse", "--short", "HEAD"], cwd=REPO, capture_output=True, text=True
    ).stdout.strip()
    stamp = datetime.now(tz=UTC).strftime("%Y%m%dT%H%M%SZ")
    RESULTS.mkdir(parents=True, exist_ok=True)
    record = {"commit": commit, "requests": args.requests, "counts": counts}
    (RESULTS / f"edge-instructions-{stamp}.json").write_text(json.dumps(record, indent=2))
    lines = [
        f"# Edge instructions per request {stamp} (commit {commit})",
        "",
        f"GET {content_bench.PATH}, in-process, callgrind, {args.requests} requests each.",
        "",
        "| reply | instructions per request |",
        "|---|---|",
        *(f"| {c['status']} | {c['instructions_per_request']:,} |" for c in counts.values()),
    ]
    (RESULTS / f"edge-instructions-{stamp}.md").write_text("\n".join(lines) + "\n")
    print("\n".join(lines))


if __name__ == "__main__":
    main()
