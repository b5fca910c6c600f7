"""Events at scale (issue 15's targets), on the production stack with PostgreSQL and Redis.

    .venv/bin/python bench/events/run.py [--events 100000] [--tickets 2000] [--rounds 3]

Creates (drops first) the database `tessera_bench_events`, migrates it, seeds (`seed.py`)
`--events` public events and one door event with `--tickets` valid tickets, starts Tessera
as deployed (config.settings.prod on granian WSGI, 2 workers, --blocking-threads 2,
PostgreSQL, Redis db 5; the default rate limit evaluated but never refusing, as in every
bench here) and measures, with a baseline in the same run:

- **discovery**: `GET /api/events?q=jazz+night&lat&lng&radiusKm=25&from&to` (text +
  distance + dates) under `wrk -t1 -c32`, the same query repeated (kept pages, decision
  0038), beside the same query on a second server with the page cache off
  (`EVENTS_DISCOVERY_CACHE_SECONDS=0`, every request builds the page) and `GET /api/ping` on
  the first server, interleaved rounds, medians. Target: p99 under 50 ms. Then the kept
  page's hit ratio: the events table's scans (`pg_stat_user_tables`) during one more run on
  the caching server, against the scans one page build costs on the other.
- **check-in burst**: every ticket scanned in once within 60 s (`--tickets` scans paced
  evenly) by 8 door clients on keep-alive connections, plus 10% retried scans (same nonce:
  the same answer) and 10% second-door scans of tickets already in (a new nonce:
  `already_checked_in`); then the database is asked whether any ticket was let in twice.
  Baseline: `GET /api/ping` paced the same way by the same clients. Target: p99 under
  50 ms, 0 double check-ins.

Writes `bench/results/events-<stamp>.json` and `.md` with the machine's description and the
discovery query's `EXPLAIN (ANALYZE, BUFFERS)`. Not a test: nothing asserts on time. Stops
every process it started.
"""

from __future__ import annotations

import argparse
import http.client
import json
import random
import secrets
import statistics
import subprocess
import sys
import tempfile
import time
import uuid
from datetime import UTC, datetime, timedelta
from pathlib import Path
from typing import Any

REPO = Path(__file__).resolve().parents[2]
HERE = Path(__file__).resolve().parent
sys.path.insert(0, str(REPO / "bench"))

from benchlib.cpu_split import CpuSplit, capacity, split_table  # noqa: E402
from benchlib.machine import describe, one_line  # noqa: E402
from benchlib.paced import Job, Reply, run_paced  # noqa: E402
from benchlib.procs import (  # noqa: E402
    Managed,
    Registry,
    free_port,
    install_signal_handlers,
    wait_http,
)
from benchlib.stack import granian_command, manage, tessera_env  # noqa: E402
from benchlib.wrk import ensure_wrk, wrk_version  # noqa: E402
from benchlib.wrk import run_wrk as wrk_once  # noqa: E402
from corpus import CITIES, WORDS  # noqa: E402
from cryptography.fernet import Fernet  # noqa: E402

RESULTS = REPO / "bench" / "results"
DB_NAME = "tessera_bench_events"
PG_SERVER = "postgresql://postgres@127.0.0.1:5432"
REDIS_DB = 5
TARGET_P99_MS = 50.0
DOORS = 8
PATHS_LUA = REPO / "bench" / "wrk" / "paths.lua"
DISTINCT_PER_RUN = 40_000  # more than one wrk run sends at the discovery's rate
# The paced distinct queries run at these fractions of the closed loop's rate.
PACED_FRACTIONS = (0.25, 0.5, 0.75)


def log(message: str) -> None:
    print(f"[{datetime.now(tz=UTC).strftime('%H:%M:%S')}] {message}", flush=True)


def sandbox_key() -> str:
    from cryptography.hazmat.primitives import serialization
    from cryptography.hazmat.primitives.asymmetric import rsa

    key = rsa.generate_private_key(public_exponent=65537, key_size=2048)
    return key.private_bytes(
        serialization.Encoding.PEM,
        serialization.PrivateFormat.PKCS8,
        serialization.NoEncryption(),
    ).decode()


def psql(sql: str, database: str = "postgres") -> str:
    done = subprocess.run(
        ["psql", f"{PG_SERVER}/{database}", "-v", "ON_ERROR_STOP=1", "-Atqc", sql],
        check=True,
        capture_output=True,
        text=True,
    )
    return done.stdout.strip()


def wrk_figures(  # noqa: PLR0917 - the bench's one call shape
    wrk: str,
    url: str,
    token: str,
    duration: int,
    connections: int,
    paths: Path | None = None,
    server: Managed | None = None,
) -> dict[str, Any]:
    """wrk's figures for `url`, or for the paths in the file `paths` in turn on its host; with
    `server`, also where the run's CPU went (benchlib.cpu_split)."""
    with CpuSplit(server.tree if server else list) as split:
        data = wrk_once(
            wrk,
            url,
            duration=duration,
            connections=connections,
            headers=[f"Authorization: Bearer {token}"],
            **({"script": PATHS_LUA, "script_args": [str(paths)]} if paths else {}),
        )
    latency = data["latency_us"]
    cpu = (
        {"cpu": split.result(requests=data["requests"], client_cpu_s=data["wrk_cpu_s"])}
        if server
        else {}
    )
    return cpu | {
        "requests_per_s": round(data["rps"], 1),
        "p50_ms": round(latency["p50"] / 1000, 2),
        "p99_ms": round(latency["p99"] / 1000, 2),
        "non_2xx": data["non_2xx"],
        "socket_errors": data["socket_errors"],
        "requests": data["requests"],
    }


# Backends report their table statistics when idle, at most this long after their last
# transaction (PostgreSQL 15's PGSTAT_IDLE_INTERVAL is 10 s).
STATS_SETTLE_S = 11.0


def events_scans(db_name: str) -> int:
    time.sleep(STATS_SETTLE_S)
    return int(
        psql(
            "SELECT coalesce(seq_scan, 0) + coalesce(idx_scan, 0) FROM pg_stat_user_tables "
            "WHERE relname = 'events_event'",
            db_name,
        )
    )


def hit_ratio(
    wrk: str, urls: dict[str, str], *, token: str, db_name: str, duration: int, connections: int
) -> dict[str, Any]:
    """How many requests the caching server answered without building the page: the events
    table's scans during a wrk run on it, against the scans of sequential builds on the
    server without the cache."""
    builds = 50
    before = events_scans(db_name)
    host, port = urls["discovery_uncached"].split("//", 1)[1].split("/", 1)[0].split(":")
    path = "/" + urls["discovery_uncached"].split("//", 1)[1].split("/", 1)[1]
    conn = http.client.HTTPConnection(host, int(port), timeout=30)
    for _ in range(builds):
        conn.request("GET", path, headers={"Authorization": f"Bearer {token}"})
        conn.getresponse().read()
    conn.close()
    per_build = (events_scans(db_name) - before) / builds
    before = events_scans(db_name)
    run = wrk_figures(wrk, urls["discovery"], token, duration, connections)
    scans = events_scans(db_name) - before
    built = scans / per_build if per_build else 0.0
    return {
        "events_scans_per_build": per_build,
        "requests": run["requests"],
        "events_scans": scans,
        "pages_built": round(built, 1),
        "hit_ratio": round(1 - built / run["requests"], 4) if run["requests"] else None,
        "run": run,
    }


def paced(
    port: int, jobs: list[tuple[str, str, bytes | None]], token: str, seconds: float
) -> dict[str, Any]:
    """Send `jobs` (method, path, body) from DOORS keep-alive clients, due evenly over
    `seconds` (bench/benchlib/paced.py); latency, statuses and the scans' answers."""
    answers: dict[str, int] = {}

    def tally(index: int, reply: Reply) -> None:
        if jobs[index][2] is None:
            return
        parsed = json.loads(reply.body)
        answer = parsed["data"]["result"] if reply.status == 200 else parsed["error"]["code"]
        if reply.status == 200 and parsed["data"]["replayed"]:
            answer += " (replayed)"
        answers[answer] = answers.get(answer, 0) + 1

    figures = run_paced(
        port,
        [Job(method, path, body or b"") for method, path, body in jobs],
        rate=len(jobs) / seconds,
        connections=DOORS,
        headers=(("Authorization", f"Bearer {token}"), ("Content-Type", "application/json")),
        on_reply=tally,
    )
    return figures | {"answers": answers}


def distinct_paths(count: int, seed: int) -> list[str]:
    """Discovery requests as many different people send them — each its own point (within
    ~17 km of a city centre), radius, word and dates — so none is answered from a kept
    page: text + distance + dates, like the benchmark's repeated query."""
    rng = random.Random(seed)
    now = datetime.now(tz=UTC).replace(microsecond=0)
    paths = []
    for _ in range(count):
        lat, lng = rng.choice(CITIES)
        since = now + timedelta(minutes=rng.randrange(0, 60 * 24 * 30))
        until = since + timedelta(days=rng.choice((1, 2, 7, 14, 30)))
        paths.append(
            f"/api/events?q={rng.choice(WORDS)}"
            f"&lat={lat + rng.uniform(-0.15, 0.15):.5f}&lng={lng + rng.uniform(-0.15, 0.15):.5f}"
            f"&radiusKm={rng.choice((5, 10, 25, 50))}"
            f"&from={since.isoformat().replace('+00:00', 'Z')}"
            f"&to={until.isoformat().replace('+00:00', 'Z')}"
        )
    return paths


def paced_distinct(
    port: int, token: str, closed_rps: float, *, seconds: int, connections: int
) -> list[dict[str, Any]]:
    """Distinct queries at fixed rates (fractions of the closed loop's), open loop."""
    rows = []
    for n, fraction in enumerate(PACED_FRACTIONS):
        rate = max(1.0, closed_rps * fraction)
        paths = distinct_paths(max(1, round(rate * seconds)), seed=1000 + n)
        row = run_paced(
            port,
            [Job("GET", path) for path in paths],
            rate=rate,
            connections=connections,
            headers=(("Authorization", f"Bearer {token}"),),
        )
        log(f"paced distinct {fraction:.2f} x closed loop: {row}")
        rows.append(row | {"fraction": fraction})
    return rows


def scan_jobs(event_id: str, secrets: list[str]) -> list[tuple[str, str, bytes | None]]:
    path = f"/api/events/{event_id}/checkins"
    rng = random.Random(15)

    def body(secret: str, nonce: str) -> bytes:
        at = datetime.now(tz=UTC).isoformat()
        return json.dumps({"ticket": secret, "nonce": nonce, "scannedAt": at}).encode()

    firsts = [(secret, uuid.uuid4().hex) for secret in secrets]
    jobs: list[tuple[str, str, bytes | None]] = [("POST", path, body(s, n)) for s, n in firsts]
    extra = max(1, len(secrets) // 10)
    # Retries (same nonce) and second doors (new nonce) for tickets scanned earlier: inserted
    # after their first scan in the sequence.
    for kind in ("retry", "second"):
        for _ in range(extra):
            index = rng.randrange(len(firsts))
            secret, nonce = firsts[index]
            job = ("POST", path, body(secret, nonce if kind == "retry" else uuid.uuid4().hex))
            jobs.insert(min(len(jobs), index + DOORS * 4 + rng.randrange(50)), job)
    return jobs


def main() -> int:  # noqa: PLR0915 - one linear script
    parser = argparse.ArgumentParser(description=__doc__.split("\n\n")[0])
    parser.add_argument("--events", type=int, default=100_000)
    parser.add_argument("--tickets", type=int, default=2000)
    parser.add_argument("--burst-seconds", type=float, default=60.0)
    parser.add_argument("--duration", type=int, default=15)
    parser.add_argument("--warmup", type=int, default=3)
    parser.add_argument("--rounds", type=int, default=3)
    parser.add_argument("--connections", type=int, default=32)
    parser.add_argument(
        "--port", type=int, default=0, help="the server's port (default: a free one)"
    )
    parser.add_argument("--database", default=DB_NAME, help="the database to drop, create and seed")
    parser.add_argument("--redis-db", type=int, default=REDIS_DB, help="the Redis db to flush")
    parser.add_argument(
        "--keep-database", action="store_true", help="leave the seeded database behind"
    )
    args = parser.parse_args()
    db_name = args.database
    redis_url = f"redis://127.0.0.1:6379/{args.redis_db}"

    install_signal_handlers()
    wrk = ensure_wrk()
    stamp = datetime.now(tz=UTC).strftime("%Y%m%dT%H%M%SZ")
    work = Path(tempfile.mkdtemp(prefix="tessera-bench-events-"))
    machine = describe(REPO, wrk, wrk_version(wrk))
    log(f"machine: {one_line(machine)}; logs in {work}")
    env = tessera_env(work / "static")
    env.update(
        {
            "DATABASE_URL": f"{PG_SERVER}/{db_name}",
            "REDIS_URL": redis_url,
            "CELERY_BROKER_URL": redis_url,
            "CELERY_TASK_ALWAYS_EAGER": "true",
            # Production settings refuse the sandbox gateway unless allowed, with its own key.
            "PAYMENTS_SANDBOX_ALLOWED": "true",
            "PAYMENTS_SANDBOX_PRIVATE_KEY": sandbox_key(),
            "PAYMENTS_ENCRYPTION_KEYS": Fernet.generate_key().decode(),
            "EVENTS_KEY_ENCRYPTION_KEYS": secrets.token_urlsafe(32),
            "TESSERA_VAR_DIR": str(work / "var"),
            "JWT_ACCESS_TOKEN_LIFETIME_SECONDS": "7200",
        }
    )
    registry = Registry()
    try:
        log(f"creating database {db_name}, clearing Redis db {args.redis_db}")
        psql(f"DROP DATABASE IF EXISTS {db_name} WITH (FORCE)")
        psql(f"CREATE DATABASE {db_name}")
        subprocess.run(
            ["redis-cli", "-n", str(args.redis_db), "FLUSHDB"], check=True, capture_output=True
        )
        manage(["migrate", "--noinput"], env, work / "migrate.log")
        manage(["collectstatic", "--noinput"], env, work / "collectstatic.log")
        log(f"seeding {args.events:,} events and {args.tickets:,} tickets")
        seed_path = work / "seed.json"
        began = time.perf_counter()
        subprocess.run(
            [
                sys.executable,
                str(HERE / "seed.py"),
                str(seed_path),
                "--events",
                str(args.events),
                "--tickets",
                str(args.tickets),
            ],
            cwd=REPO,
            env=env,
            check=True,
        )
        seed = json.loads(seed_path.read_text())
        log(f"seeded in {time.perf_counter() - began:.1f} s")

        servers: dict[str, Managed] = {}

        def serve(name: str, port: int, extra_env: dict[str, str]) -> str:
            server = servers[name] = registry.start(
                name,
                granian_command("config.wsgi:application", port),
                env={**env, **extra_env},
                cwd=REPO,
                log_path=work / f"{name}.log",
            )
            wait_http(server, port, "/health/", timeout=120)
            return f"http://127.0.0.1:{port}"

        port = args.port or free_port()
        base = serve("granian", port, {})
        # The same stack with discovery's page cache off: every request builds the page.
        uncached = serve(
            "granian-uncached",
            args.port + 1 if args.port else free_port(),
            {"EVENTS_DISCOVERY_CACHE_SECONDS": "0"},
        )
        targets = {
            "discovery": f"{base}/api/events?{seed['discovery_query']}",
            "discovery_uncached": f"{uncached}/api/events?{seed['discovery_query']}",
            "ping": f"{base}/api/ping",
        }
        probe = json.loads(
            subprocess.run(
                [
                    "curl",
                    "-s",
                    "-H",
                    f"Authorization: Bearer {seed['searcher_token']}",
                    targets["discovery"],
                ],
                capture_output=True,
                text=True,
                check=True,
            ).stdout
        )
        found = len(probe["data"]["items"])
        log(f"discovery answers {found} events on its first page")
        # Every person's own query on the caching server: a new file of them for each wrk
        # run, more than it can send, so no page is asked for twice.
        targets["discovery_distinct"] = base

        def distinct_file(run: int) -> Path:
            path = work / f"distinct-{run}.txt"
            path.write_text("\n".join(distinct_paths(DISTINCT_PER_RUN, seed=run)) + "\n")
            return path

        for n, (name, url) in enumerate(targets.items()):
            paths = distinct_file(-1 - n) if name == "discovery_distinct" else None
            wrk_figures(wrk, url, seed["searcher_token"], args.warmup, args.connections, paths)
        runs: dict[str, list[dict[str, Any]]] = {name: [] for name in targets}
        serving = dict.fromkeys(targets, servers["granian"]) | {
            "discovery_uncached": servers["granian-uncached"]
        }
        for round_number in range(1, args.rounds + 1):
            for name, url in targets.items():
                paths = distinct_file(round_number) if name == "discovery_distinct" else None
                figures = wrk_figures(
                    wrk,
                    url,
                    seed["searcher_token"],
                    args.duration,
                    args.connections,
                    paths,
                    serving[name],
                )
                runs[name].append(figures)
                log(f"round {round_number} {name}: {figures}")
        distinct_rps = statistics.median(r["requests_per_s"] for r in runs["discovery_distinct"])
        paced_rows = paced_distinct(
            port,
            seed["searcher_token"],
            distinct_rps,
            seconds=args.duration,
            connections=args.connections,
        )
        hits = hit_ratio(
            wrk,
            targets,
            token=seed["searcher_token"],
            db_name=db_name,
            duration=args.duration,
            connections=args.connections,
        )
        log(f"kept pages: {hits}")

        log(f"check-in burst: {args.tickets:,} tickets over {args.burst_seconds:.0f} s")
        jobs = scan_jobs(seed["door_event"], seed["secrets"])
        burst = paced(port, jobs, seed["host_token"], args.burst_seconds)
        log(f"burst: {burst}")
        pings = [("GET", "/api/ping", None)] * len(jobs)
        ping_burst = paced(port, pings, seed["host_token"], args.burst_seconds)
        log(f"ping, paced the same: {ping_burst}")
        doubles = int(
            psql(
                "SELECT count(*) FROM (SELECT ticket_id FROM events_checkin WHERE result = 'ok' "
                "AND direction = 'entry' GROUP BY ticket_id HAVING count(*) > 1) AS d",
                db_name,
            )
        )
        inside = int(psql("SELECT count(*) FROM events_ticket WHERE inside", db_name))
    finally:
        registry.stop_all()
        if not args.keep_database:
            psql(f"DROP DATABASE IF EXISTS {db_name} WITH (FORCE)")

    summary = {
        name: {
            key: round(statistics.median(r[key] for r in rs), 2)
            for key in ("requests_per_s", "p50_ms", "p99_ms")
        }
        | {"non_2xx": sum(r["non_2xx"] for r in rs)}
        | {"cpu": median_split([r["cpu"] for r in rs], args.connections)}
        for name, rs in runs.items()
    }
    report = {
        "benchmark": "events",
        "started": stamp,
        "machine": machine,
        "settings": vars(args)
        | {"doors": DOORS, "database": f"{PG_SERVER}/{db_name}", "redis": redis_url},
        "discovery_query": seed["discovery_query"],
        "discovery_first_page_items": found,
        "discovery": {"runs": runs, "summary": summary},
        "discovery_distinct_paced": paced_rows,
        "discovery_cache": hits,
        "checkin_burst": burst,
        "ping_burst": ping_burst,
        "double_check_ins": doubles,
        "tickets_inside": inside,
        "explain": seed["explain"],
    }
    RESULTS.mkdir(parents=True, exist_ok=True)
    path = RESULTS / f"events-{stamp}.json"
    path.write_text(json.dumps(report, indent=2) + "\n")
    path.with_suffix(".md").write_text(markdown(report))
    print(markdown(report))
    log(f"results: {path}")
    return 0


def median_split(splits: list[dict[str, Any]], connections: int) -> dict[str, Any]:
    """The rounds' CPU splits as one: each class's median ms per request, and its bounds."""
    per = {
        kind: round(statistics.median(s["cpu_ms_per_request"][kind] for s in splits), 3)
        for kind in splits[0]["cpu_ms_per_request"]
    }
    stolen = statistics.median(s["stolen_ms_per_request"] for s in splits)
    split = {"cpu_ms_per_request": per, "stolen_ms_per_request": round(stolen, 3)}
    return split | {"bounds": capacity(split, connections=connections)}


def cpu_split_md(summary: dict[str, Any], connections: int) -> list[str]:
    """Where each row's CPU went, and the latency floor that sets (benchlib/cpu_split.py)."""
    lines = [
        (
            "Where the CPU went (ms of CPU per request, by process, medians of the rounds), "
            f"and what it allows: the two cores divided by the CPU one request costs in the "
            f"processes serving it give the ceiling on req/s; at {connections} connections "
            "that ceiling's mean latency (connections ÷ req/s) is a floor no scheduling can "
            "beat, and the p99 is at least the mean. The last column is the same floor with "
            "the web server's CPU taken out: what PostgreSQL, Redis and the client alone "
            'allow. "other" is the machine\'s busy time no process class accounts for '
            "(the bench itself, kernel threads), left out of the bounds."
        ),
        "",
    ]
    labels = {
        "discovery": "kept pages",
        "discovery_distinct": "distinct queries",
        "discovery_uncached": "page cache off",
        "ping": "ping",
    }
    rows = [(label, summary[name]["cpu"]) for name, label in labels.items()]
    return [*lines, *split_table(rows), ""]


def markdown(report: dict[str, Any]) -> str:
    s = report["discovery"]["summary"]
    burst, ping = report["checkin_burst"], report["ping_burst"]
    settings = report["settings"]
    machine = report["machine"]
    d_p99 = s["discovery"]["p99_ms"]
    ping_rps = s["ping"]["requests_per_s"]
    ratio = round(s["discovery"]["requests_per_s"] / ping_rps, 3) if ping_rps else ""
    uncached_p99 = s["discovery_uncached"]["p99_ms"]
    uncached_ratio = (
        round(s["discovery_uncached"]["requests_per_s"] / ping_rps, 3) if ping_rps else ""
    )
    hits = report["discovery_cache"]
    lines = [
        f"# Events at scale, {report['started']}",
        "",
        f"Machine: {one_line(machine)}. Load average at start: {machine['load_average_at_start']}.",
        "",
        "config.settings.prod on granian WSGI (2 workers, --blocking-threads 2), PostgreSQL,",
        "Redis.",
        "",
        (
            f"## Discovery ({settings['events']:,} events; text + distance + dates; "
            f"wrk -t1 -c{settings['connections']}, {settings['duration']} s x "
            f"{settings['rounds']} rounds, medians)"
        ),
        "",
        (
            f"`GET /api/events?{report['discovery_query']}` "
            f"({report['discovery_first_page_items']} items on the page)"
        ),
        "",
        "| target | req/s | p50 ms | p99 ms | non-2xx |",
        "|---|---|---|---|---|",
    ]
    labels = {
        "discovery": "discovery, kept pages (the repeated query)",
        "discovery_distinct": "discovery, distinct queries (each person's own; no page kept)",
        "discovery_uncached": "discovery, page cache off (second server)",
        "ping": "ping",
    }
    for name in ("discovery", "discovery_distinct", "discovery_uncached", "ping"):
        row = s[name]
        lines.append(
            f"| {labels[name]} | {row['requests_per_s']:.0f} | {row['p50_ms']} | {row['p99_ms']} | "
            f"{row['non_2xx']} |"
        )
    met = "met" if d_p99 < TARGET_P99_MS else "not met"
    uncached_met = "met" if uncached_p99 < TARGET_P99_MS else "not met"
    distinct_p99 = s["discovery_distinct"]["p99_ms"]
    distinct_met = "met" if distinct_p99 < TARGET_P99_MS else "not met"
    lines += [
        "",
        (
            f"Discovery ÷ ping (req/s): kept {ratio}, cache off {uncached_ratio}. "
            f"Target p99 < {TARGET_P99_MS:.0f} ms: kept **{met}** ({d_p99} ms); "
            f"distinct **{distinct_met}** ({distinct_p99} ms); "
            f"cache off **{uncached_met}** ({uncached_p99} ms)."
        ),
        "",
        *cpu_split_md(s, settings["connections"]),
        (
            "Distinct queries at fixed rates (open loop: requests due at a steady rate over "
            f"{settings['connections']} connections, each timed from its due moment, so a "
            "stall counts in every request it delays; bench/benchlib/paced.py):"
        ),
        "",
        (
            "| offered req/s | x closed loop | answered req/s | p50 ms | p99 ms | max ms "
            "| errors | client CPU µs/req |"
        ),
        "|---|---|---|---|---|---|---|---|",
    ]
    for row in report["discovery_distinct_paced"]:
        lines.append(
            f"| {row['offered_rps']} | {row['fraction']} | {row['achieved_rps']} | "
            f"{row['p50_ms']} | {row['p99_ms']} | {row['max_ms']} | {row['errors']} | "
            f"{row['client_cpu_us_per_request']} |"
        )
    lines += [
        "",
        (
            f"Kept pages' hit ratio (one more {settings['duration']} s run on the caching "
            f"server, {hits['run']['requests_per_s']:.0f} req/s): {hits['requests']:,} "
            f"requests, {hits['events_scans']} scans of the events table at "
            f"{hits['events_scans_per_build']} per page build (measured on the other server) "
            f"= ~{hits['pages_built']} pages built: **{hits['hit_ratio']}**."
        ),
        "",
        (
            f"## Check-in burst ({settings['tickets']:,} tickets in "
            f"{settings['burst_seconds']:.0f} s, {settings['doors']} door clients)"
        ),
        "",
        "| target | requests | wall s | p50 ms | p99 ms | max ms | statuses |",
        "|---|---|---|---|---|---|---|",
    ]
    for label, row in (("scans", burst), ("ping, paced the same", ping)):
        lines.append(
            f"| {label} | {row['requests']} | {row['wall_s']} | {row['p50_ms']} | "
            f"{row['p99_ms']} | {row['max_ms']} | {row['statuses']} |"
        )
    burst_met = "met" if burst["p99_ms"] < TARGET_P99_MS else "not met"
    lines += [
        "",
        (
            f"Answers: `{json.dumps(burst['answers'])}`. Double check-ins: "
            f"**{report['double_check_ins']}**; tickets inside after the burst: "
            f"{report['tickets_inside']}. Target p99 < {TARGET_P99_MS:.0f} ms: **{burst_met}**."
        ),
        "",
        "## Discovery query plans (`EXPLAIN (ANALYZE, BUFFERS)`)",
        "",
    ]
    for plan in report["explain"]:
        lines += ["```sql", plan["sql"], "```", "", "```", plan["plan"], "```", ""]
    return "\n".join(lines) + "\n"


if __name__ == "__main__":
    sys.exit(main())
