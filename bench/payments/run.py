"""Payments benchmarks: issue 14's three targets, each beside a baseline measured in the same
run on the same machine.

    .venv/bin/python bench/payments/run.py [--only intake,settle,soak] [--duration 10]
        [--connections 64] [--deposits 400] [--soak-deposits 800] [--concurrency 4]

1. intake — `POST /webhooks/sandbox` on the production-like stack (config.settings.prod,
   granian 2 workers x 2 blocking threads, PostgreSQL, Redis cache, RabbitMQ broker), wrk
   at `--connections` posting a different validly signed event each request (so every
   request is a new delivery: verified, stored, enqueued). Baselines: the bare WSGI ceiling
   (`bench/baselines/bare_wsgi.py`, same server, same request bodies) and Tessera's
   `/health/` (Django's HTML middleware chain, no database). Target: p99 < 20 ms, 0 errors.
   Then the same intake open loop (bench/benchlib/paced.py): new deliveries due at a steady
   rate — 0.25, 0.5 and 0.75 of the closed loop's — over the same connections for
   `--paced-duration` seconds, each timed from its due moment: the latency a gateway sees
   at a given delivery rate, where the closed loop's p99 is set by its throughput alone.
2. settle — `--deposits` deposits made first; then their paid webhooks are posted (16 at a
   time) to the web server and a Celery worker (`--concurrency` prefork processes) processes
   them: intake -> task -> order paid -> wallet credited (and the notice tasks that follow).
   Deposits settled per second, from the first webhook sent to the last wallet credited,
   against `pgbench -b tpcb-like -c N -j N` on a scratch database with N = `--concurrency`.
   Target: at least 50% of pgbench's TPS.
3. soak — `--soak-deposits` deposits; their paid webhooks plus 10% duplicates (resent
   bodies) and 10% reordered (failure events dated before the payment, delivered after it),
   1,000 deliveries for 800 deposits, while the worker is killed (SIGKILL to its process
   group) and restarted three times. Then: deposits credited (0 lost), ledger transfers and
   balances (0 double credits), the nightly ledger check.

Uses only its own names: databases `tessera_pay_bench` and `tessera_pay_pgbench` (dropped
and re-created), Redis database 4, the RabbitMQ vhost `tessera_pay`, ports 18410-18419.
Writes `bench/results/payments-<stamp>.json` and `.md`. Not a test: no assertion on time.
"""

from __future__ import annotations

import argparse
import hashlib
import json
import logging
import os
import random
import signal
import subprocess
import sys
import tempfile
import threading
import time
import uuid
from concurrent.futures import ThreadPoolExecutor
from datetime import UTC, datetime
from pathlib import Path
from typing import Any

import psutil

REPO = Path(__file__).resolve().parents[2]
sys.path.insert(0, str(REPO))
sys.path.insert(0, str(REPO / "bench"))

from benchlib.cpu_split import CpuSplit, capacity, split_table  # noqa: E402
from benchlib.machine import describe, one_line  # noqa: E402
from benchlib.paced import Job, run_paced  # noqa: E402
from benchlib.procs import BenchError, Registry, install_signal_handlers, wait_http  # noqa: E402
from benchlib.report import md_table  # noqa: E402
from benchlib.stack import VENV_BIN, granian_command, manage, tessera_env  # noqa: E402
from benchlib.wrk import ensure_wrk, run_wrk, wrk_version  # noqa: E402

PG = "postgresql://postgres@127.0.0.1:5432"
DB = "tessera_pay_bench"
PGBENCH_DB = "tessera_pay_pgbench"
REDIS = "redis://127.0.0.1:6379/4"
BROKER = "amqp://guest:guest@127.0.0.1:5672/tessera_pay"
PORTS = iter(range(18410, 18420))
SENDERS = 16  # the settle phase's gateway connections
LUA = Path(__file__).with_name("intake.lua")
# The paced intake runs at these fractions of the closed loop's rate.
PACED_FRACTIONS = (0.25, 0.5, 0.75)
PACED_COLUMNS = [
    "offered req/s",
    "x closed loop",
    "answered req/s",
    "p50 ms",
    "p99 ms",
    "max ms",
    "errors",
    "client CPU µs/req",
]
OUT = REPO / "bench" / "results"


def psql(sql: str, db: str = "postgres") -> None:
    subprocess.run(["psql", f"{PG}/{db}", "-v", "ON_ERROR_STOP=1", "-qc", sql], check=True)


def wrk_row(
    wrk: str,
    url: str,
    *,
    duration: int,
    connections: int,
    server: Any = None,
    **script: Any,
) -> dict:
    """One wrk run's figures (`script`/`script_args` as run_wrk takes them); with `server`
    (its Managed), also where the run's CPU went and the latency floor that sets."""
    with CpuSplit(server.tree if server else list) as split:
        data = run_wrk(wrk, url, duration=duration, connections=connections, **script)
    latency = data["latency_us"]
    row = {
        "requests": data["requests"],
        "rps": round(data["rps"], 1),
        "p50_ms": latency["p50"] / 1000,
        "p90_ms": latency["p90"] / 1000,
        "p99_ms": latency["p99"] / 1000,
        "max_ms": latency["max"] / 1000,
        "errors": data["error_total"],
        "command": data["command"],
    }
    if server is not None:
        cpu = split.result(requests=data["requests"], client_cpu_s=data["wrk_cpu_s"])
        row["cpu"] = cpu | {"bounds": capacity(cpu, connections=connections)}
    return row


def wrk_post(
    wrk: str, url: str, bodies: Path, *, duration: int, connections: int, server: Any = None
) -> dict:
    """wrk posting the signed bodies of `bodies` in turn (intake.lua)."""
    return wrk_row(
        wrk,
        url,
        duration=duration,
        connections=connections,
        server=server,
        script=LUA,
        script_args=[str(bodies)],
    )


def paid_body(
    purchase_id: str,
    total: int,
    *,
    reference: str,
    event: str = "purchase.paid",
    status: str = "paid",
    when: int | None = None,
) -> bytes:
    import orjson

    now = int(time.time()) if when is None else when
    return orjson.dumps(
        {
            "event_type": event,
            "id": purchase_id,
            "type": "purchase",
            "status": status,
            "brand_id": "sandbox",
            "is_test": True,
            "reference": reference,
            "client": {"email": "bench@example.com"},
            "purchase": {
                "currency": "ZAR",
                "total": total,
                "products": [{"name": "Wallet deposit", "price": total}],
            },
            "created_on": now - 30,
            "updated_on": now,
        }
    )


def signed_bodies(count: int) -> list[tuple[str, bytes]]:
    """`count` paid webhooks for purchases nobody made, each with the sandbox's signature:
    every one a new delivery to verify, store and enqueue."""
    from tessera.payments import sandbox

    def one(_: int) -> tuple[str, bytes]:
        body = paid_body(str(uuid.uuid4()), 15000, reference=str(uuid.uuid4()))
        return sandbox.sign(body), body

    with ThreadPoolExecutor(2) as pool:
        return list(pool.map(one, range(count)))


def signed_file(path: Path, count: int) -> Path:
    lines = (f"{signature}\t{body.decode()}" for signature, body in signed_bodies(count))
    path.write_text("\n".join(lines) + "\n")
    return path


def intake_paced(port: int, closed_rps: float, args: Any) -> list[dict]:
    """The intake at fixed rates (fractions of what the closed loop reached) over the same
    number of connections, latency from each delivery's due time (benchlib.paced)."""
    rows = []
    for fraction in PACED_FRACTIONS:
        rate = max(1.0, closed_rps * fraction)
        count = max(1, round(rate * args.paced_duration))
        jobs = [
            Job("POST", "/webhooks/sandbox", body, (("X-Signature", signature),))
            for signature, body in signed_bodies(count)
        ]
        row = run_paced(
            port,
            jobs,
            rate=rate,
            connections=args.connections,
            headers=(("Content-Type", "application/json"),),
        )
        row["fraction"] = fraction
        print(f"    paced {fraction:.2f} x closed loop: {row}", flush=True)
        rows.append(row)
    return rows


def start_web(
    registry: Registry,
    env: dict,
    logs: Path,
    target: str = "config.wsgi:application",
    ready: str = "/health/",
) -> tuple[Any, int]:
    port = next(PORTS)
    web = registry.start(
        f"web:{target}",
        granian_command(target, port, workers=2, blocking_threads=2),
        env=env,
        cwd=REPO,
        log_path=logs / f"web-{port}.log",
    )
    wait_http(web, port, ready, timeout=120)
    return web, port


def start_worker(registry: Registry, env: dict, logs: Path, concurrency: int, n: int) -> Any:
    return registry.start(
        f"worker-{n}",
        [
            str(VENV_BIN / "celery"),
            "-A",
            "config",
            "worker",
            "-l",
            "WARNING",
            "--pool",
            "prefork",
            "--concurrency",
            str(concurrency),
            "-O",
            "fair",
            "--without-gossip",
            "--without-mingle",
            "--hostname",
            f"pay-bench-{n}@%h",
        ],
        env=env,
        cwd=REPO,
        log_path=logs / f"worker-{n}.log",
    )


def purge() -> None:
    from config.celery import app

    app.control.purge()


# --- 1. intake ----------------------------------------------------------------------------


def run_intake(args: Any, registry: Registry, env: dict, logs: Path, wrk: str) -> dict:
    from tessera.payments.models import DeliveryState, WebhookDelivery

    work = Path(tempfile.mkdtemp(prefix="pay-bench-"))
    print("  signing webhook bodies ...", flush=True)
    warm = signed_file(work / "warm.tsv", 6000)
    measured = signed_file(work / "measured.tsv", args.bodies)
    results: dict[str, Any] = {"bodies": args.bodies}
    bare, bare_port = start_web(registry, env, logs, "bench.baselines.bare_wsgi:application", "/")
    wrk_post(
        wrk,
        f"http://127.0.0.1:{bare_port}/webhooks/sandbox",
        warm,
        duration=3,
        connections=args.connections,
    )
    results["ceiling_bare_wsgi"] = wrk_post(
        wrk,
        f"http://127.0.0.1:{bare_port}/webhooks/sandbox",
        measured,
        duration=args.duration,
        connections=args.connections,
    )
    registry.stop(bare)
    web, port = start_web(registry, env, logs)
    # Warmed like the two other targets: a cold worker's first requests are not this
    # baseline's subject (docs/decisions/0042 measures them).
    run_wrk(wrk, f"http://127.0.0.1:{port}/health/", duration=3, connections=args.connections)
    results["baseline_health"] = wrk_row(
        wrk,
        f"http://127.0.0.1:{port}/health/",
        duration=args.duration,
        connections=args.connections,
        server=web,
    )
    wrk_post(
        wrk,
        f"http://127.0.0.1:{port}/webhooks/sandbox",
        warm,
        duration=3,
        connections=args.connections,
    )
    before = WebhookDelivery.objects.count()
    duplicates_before = WebhookDelivery.objects.filter(state=DeliveryState.DUPLICATE).count()
    results["intake"] = wrk_post(
        wrk,
        f"http://127.0.0.1:{port}/webhooks/sandbox",
        measured,
        duration=args.duration,
        connections=args.connections,
        server=web,
    )
    stored = WebhookDelivery.objects.count() - before
    results["intake"]["stored"] = stored
    results["intake"]["duplicates"] = (
        WebhookDelivery.objects.filter(state=DeliveryState.DUPLICATE).count() - duplicates_before
    )
    results["paced"] = intake_paced(port, results["intake"]["rps"], args)
    registry.stop(web)
    purge()
    results["target_met"] = results["intake"]["p99_ms"] < 20 and results["intake"]["errors"] == 0
    return results


# --- 2. settle ----------------------------------------------------------------------------


def make_deposits(count: int, people: int) -> list[tuple[Any, bytes, str]]:
    """Deposits made through the service; the paid webhook each one's checkout would send."""
    from tessera.accounts.models import User
    from tessera.payments import sandbox
    from tessera.payments.models import PaymentOrder
    from tessera.wallet import services

    users = [
        User.objects.create_user(email=f"bench-{uuid.uuid4().hex[:10]}@example.com")
        for _ in range(people)
    ]
    made = []
    for n in range(count):
        user = users[n % people]
        amount = 1000 + (n % 50) * 100
        tx = services.deposit_create(
            user=user, amount_minor=amount, currency="ZAR", idempotency_key=f"bench-{uuid.uuid4()}"
        )
        order = PaymentOrder.objects.get(pk=tx.payment_order_id)
        body = paid_body(str(order.provider_purchase_id), amount, reference=str(order.pk))
        made.append((tx, body, sandbox.sign(body)))
    return made


def send_all(
    port: int, deliveries: list[tuple[bytes, str]], concurrency: int = SENDERS
) -> list[int]:
    import httpx

    local = threading.local()

    def post(item: tuple[bytes, str]) -> int:
        client = getattr(local, "client", None)
        if client is None:
            client = local.client = httpx.Client(timeout=30)
        body, signature = item
        for _attempt in range(5):  # as a gateway would: retry what was not answered 2xx
            try:
                reply = client.post(
                    f"http://127.0.0.1:{port}/webhooks/sandbox",
                    content=body,
                    headers={"Content-Type": "application/json", "X-Signature": signature},
                )
                if reply.status_code < 500:
                    return reply.status_code
            except httpx.HTTPError:
                pass
            time.sleep(0.5)
        return 0

    with ThreadPoolExecutor(concurrency) as pool:
        return list(pool.map(post, deliveries))


def wait_credited(ids: list[Any], timeout: float) -> float | None:
    from tessera.wallet.models import WalletTransaction

    started = time.monotonic()
    while time.monotonic() - started < timeout:
        done = WalletTransaction.objects.filter(pk__in=ids, status="completed").count()
        if done == len(ids):
            return time.monotonic()
        time.sleep(0.1)
    return None


def pgbench(concurrency: int, duration: int) -> dict:
    psql(f"DROP DATABASE IF EXISTS {PGBENCH_DB}")
    psql(f"CREATE DATABASE {PGBENCH_DB}")
    try:
        subprocess.run(
            ["pgbench", "-i", "-q", "-s", "1", f"{PG}/{PGBENCH_DB}"],
            check=True,
            capture_output=True,
        )
        cmd = [
            "pgbench",
            "-b",
            "tpcb-like",
            "-c",
            str(concurrency),
            "-j",
            str(concurrency),
            "-T",
            str(duration),
            f"{PG}/{PGBENCH_DB}",
        ]
        out = subprocess.run(cmd, check=True, capture_output=True, text=True).stdout
        tps = next(
            float(ln.split("=")[1].split()[0]) for ln in out.splitlines() if ln.startswith("tps")
        )
        return {"tps": tps, "command": " ".join(cmd)}
    finally:
        psql(f"DROP DATABASE IF EXISTS {PGBENCH_DB}")


def run_settle(args: Any, registry: Registry, env: dict, logs: Path) -> dict:
    purge()
    print(f"  making {args.deposits} deposits ...", flush=True)
    made = make_deposits(args.deposits, people=50)
    web, port = start_web(registry, env, logs)
    worker = start_worker(registry, env, logs, args.concurrency, 0)
    time.sleep(8)  # the worker's pool up and consuming
    base = pgbench(args.concurrency, args.duration)
    bench_cpu = psutil.Process().cpu_times()
    with CpuSplit(web.tree, worker.tree) as split:
        started = time.monotonic()
        statuses = send_all(port, [(body, sig) for _, body, sig in made])
        sent = time.monotonic()
        finished = wait_credited([tx.pk for tx, _, _ in made], timeout=600)
    spent = psutil.Process().cpu_times()
    # The senders and the poll for credits run in this process: the client's share.
    client_cpu = (spent.user - bench_cpu.user) + (spent.system - bench_cpu.system)
    registry.stop(worker)
    registry.stop(web)
    result: dict[str, Any] = {
        "deposits": args.deposits,
        "worker_concurrency": args.concurrency,
        "pgbench": base,
        "send_seconds": round(sent - started, 2),
        "non_200": sum(1 for s in statuses if s != 200),
    }
    if finished is None:
        result["settled_per_second"] = None
        result["ratio"] = None
    else:
        elapsed = finished - started
        result["seconds"] = round(elapsed, 2)
        result["settled_per_second"] = round(args.deposits / elapsed, 1)
        result["ratio"] = round(result["settled_per_second"] / base["tps"], 3)
    cpu = split.result(requests=args.deposits, client_cpu_s=client_cpu)
    result["cpu"] = cpu | {"bounds": capacity(cpu, connections=SENDERS)}
    result["target_met"] = bool(result["ratio"] and result["ratio"] >= 0.5)
    return result


# --- 3. soak ------------------------------------------------------------------------------


def run_soak(args: Any, registry: Registry, env: dict, logs: Path) -> dict:  # noqa: PLR0915
    from django.db.models import Count, Sum
    from django.utils import timezone

    from tessera.payments import sandbox
    from tessera.payments.models import PaymentOrder, WebhookDelivery
    from tessera.wallet import services
    from tessera.wallet.models import LedgerTransfer, WalletTransaction

    purge()
    soak_started_at = timezone.now()
    n = args.soak_deposits
    made = make_deposits(n, people=40)
    rng = random.Random(14)
    paid = [(body, sig) for _, body, sig in made]
    duplicates = [rng.choice(paid) for _ in range(n // 8)]  # 100 for 800
    late = []
    for tx, _, _ in rng.sample(made, n // 8):
        order = PaymentOrder.objects.get(pk=tx.payment_order_id)
        body = paid_body(
            str(order.provider_purchase_id),
            tx.amount_minor,
            reference=str(order.pk),
            event="purchase.payment_failure",
            status="error",
            when=int(time.time()) - 20,
        )
        late.append((body, sandbox.sign(body)))
    first = paid[:]
    rng.shuffle(first)
    # Half the payments, a third of the duplicates and late failures, the other half, the
    # rest: every late failure arrives after its payment (both halves precede it or not —
    # those arriving before their payment are reordered the other way, and still must end
    # credited).
    tail_mix = duplicates + late
    rng.shuffle(tail_mix)
    stream = (
        first[: n // 2]
        + tail_mix[: len(tail_mix) // 3]
        + first[n // 2 :]
        + tail_mix[len(tail_mix) // 3 :]
    )
    web, port = start_web(registry, env, logs)
    workers = [start_worker(registry, env, logs, args.concurrency, 1)]
    time.sleep(8)
    ids = [tx.pk for tx, _, _ in made]
    sender = threading.Thread(target=lambda: send_all(port, stream, concurrency=8), daemon=True)
    started = time.monotonic()
    sender.start()
    kills = []
    for fraction in (0.2, 0.45, 0.7):
        while (
            WalletTransaction.objects.filter(pk__in=ids, status="completed").count() < fraction * n
        ):
            time.sleep(0.05)
            if time.monotonic() - started > 600:
                raise BenchError("the soak made no progress for 10 minutes")
        victim = workers[-1]
        credited = WalletTransaction.objects.filter(pk__in=ids, status="completed").count()
        os.killpg(victim.pid, signal.SIGKILL)  # the worker and its pool, mid-task
        victim.proc.wait(timeout=30)
        registry.stop(victim)
        kills.append({"at_credited": credited, "seconds": round(time.monotonic() - started, 1)})
        workers.append(start_worker(registry, env, logs, args.concurrency, len(workers) + 1))
    sender.join(timeout=600)
    finished = wait_credited(ids, timeout=600)
    time.sleep(3)  # let the last notices finish
    registry.stop(workers[-1])
    registry.stop(web)
    credited = WalletTransaction.objects.filter(pk__in=ids, status="completed").count()
    references = [f"deposit:{pk}" for pk in ids]
    transfers = (
        LedgerTransfer.objects.filter(reference__in=references)
        .values("reference")
        .annotate(n=Count("id"))
        .filter(n__gt=1)
        .count()
    )
    deposit_transfers = LedgerTransfer.objects.filter(reference__in=references).count()
    expected = {}
    for tx, _, _ in made:
        expected[tx.user_id] = expected.get(tx.user_id, 0) + tx.amount_minor
    wrong_balances = 0
    for user_id, amount in expected.items():
        account = services.wallet_account(user_id=user_id, currency="ZAR", create=False)
        wrong_balances += int(account is None or account.balance_minor != amount)
    hashes = {hashlib.sha256(body).hexdigest() for body, _ in stream}
    states = dict(
        WebhookDelivery.objects.filter(body_sha256__in=hashes, created_at__gte=soak_started_at)
        .values_list("state")
        .annotate(n=Count("id"))
    )
    check = services.ledger_check()
    return {
        "deposits": n,
        "deliveries_sent": len(stream),
        "duplicates_sent": len(duplicates),
        "reordered_sent": len(late),
        "kills": kills,
        "seconds": round((finished or time.monotonic()) - started, 1),
        "credited": credited,
        "lost": n - credited,
        "double_credits": transfers + max(0, deposit_transfers - n),
        "wrong_balances": wrong_balances,
        "ledger_check_ok": check.ok,
        "delivery_states": states,
        "total_credited_minor": WalletTransaction.objects.filter(
            pk__in=ids, status="completed"
        ).aggregate(s=Sum("amount_minor"))["s"],
        "target_met": credited == n
        and transfers == 0
        and deposit_transfers == n
        and wrong_balances == 0
        and check.ok,
    }


# --- report -------------------------------------------------------------------------------


def markdown(results: dict) -> str:
    lines = [
        f"# Payments benchmarks — {results['stamp']}",
        "",
        f"Machine: {one_line(results['machine'])}",
        "",
        f"Command: `{results['command']}`",
        "",
    ]
    intake = results.get("intake")
    if intake:
        lines += [
            "## 1. Webhook intake",
            "",
            (
                f"wrk, {results['args']['connections']} connections, "
                f"{results['args']['duration']} s; a new validly signed event per request."
            ),
            "",
        ]
        rows = [
            [name, r["rps"], r["p50_ms"], r["p99_ms"], r["errors"]]
            for name, r in (
                ("bare WSGI ceiling (same bodies)", intake["ceiling_bare_wsgi"]),
                ("Tessera /health/ (HTML chain, no DB)", intake["baseline_health"]),
                ("Tessera POST /webhooks/sandbox", intake["intake"]),
            )
        ]
        lines += md_table(["target", "req/s", "p50 ms", "p99 ms", "errors"], rows)
        lines += [
            "",
            (
                f"Stored deliveries: {intake['intake']['stored']:,} "
                f"(duplicates among them: {intake['intake']['duplicates']:,}). "
                "Target p99 < 20 ms with 0 errors: "
                f"**{'met' if intake['target_met'] else 'not met'}**."
            ),
            "",
        ]
        if "cpu" in intake["intake"]:
            lines += [
                (
                    "Where the CPU went (ms of CPU per request, by process; "
                    "bench/benchlib/cpu_split.py). The two cores divided by the CPU one "
                    "request costs in the processes serving it give the ceiling on req/s; at "
                    f"{results['args']['connections']} connections that ceiling's mean latency "
                    "(connections ÷ req/s) is a floor no scheduling can beat, and the p99 is "
                    "at least the mean. The last column is the same floor with the web "
                    'server\'s CPU taken out. "other" is busy time no process class accounts '
                    "for, left out of the bounds."
                ),
                "",
                *split_table(
                    [
                        ("/health/", intake["baseline_health"]["cpu"]),
                        ("POST /webhooks/sandbox", intake["intake"]["cpu"]),
                    ]
                ),
                "",
            ]
        if intake.get("paced"):
            lines += [
                (
                    "The same intake at fixed rates (open loop: deliveries due at a steady "
                    f"rate over {results['args']['connections']} connections, each timed "
                    "from its due moment, so a stall counts in every delivery it delays; "
                    "bench/benchlib/paced.py):"
                ),
                "",
            ]
            lines += md_table(
                PACED_COLUMNS,
                [
                    [
                        r["offered_rps"],
                        r["fraction"],
                        r["achieved_rps"],
                        r["p50_ms"],
                        r["p99_ms"],
                        r["max_ms"],
                        r["errors"],
                        r["client_cpu_us_per_request"],
                    ]
                    for r in intake["paced"]
                ],
            )
            lines += [""]
    settle = results.get("settle")
    if settle:
        lines += [
            "## 2. Deposits settled end to end",
            "",
            (
                f"{settle['deposits']} paid webhooks ({SENDERS} senders) → intake → Celery worker "
                f"(prefork x{settle['worker_concurrency']}) → order paid → wallet credited."
            ),
            "",
        ]
        lines += md_table(
            ["measure", "value"],
            [
                ["pgbench tpcb-like TPS (same clients)", settle["pgbench"]["tps"]],
                ["deposits settled per second", settle["settled_per_second"]],
                ["ratio (target >= 0.50)", settle["ratio"]],
                ["seconds, first webhook to last credit", settle.get("seconds")],
            ],
        )
        lines += ["", f"`{settle['pgbench']['command']}`", ""]
        if "cpu" in settle:
            target_rate = round(settle["pgbench"]["tps"] / 2, 1)
            ceiling = settle["cpu"]["bounds"]["ceiling_rps"]
            lines += [
                (
                    "Where the CPU went, per deposit settled (ms of CPU by process, from the "
                    "first webhook to the last credit; bench/benchlib/cpu_split.py). The two "
                    "cores divided by the CPU one deposit costs in the processes serving it "
                    f"give the ceiling: **{ceiling} deposits/s**, against the target's "
                    f'{target_rate}/s (half of pgbench). "client" is this bench\'s senders '
                    "and its poll for credits."
                ),
                "",
                *split_table([("deposit", settle["cpu"])]),
                "",
            ]
    soak = results.get("soak")
    if soak:
        lines += ["## 3. Soak with a worker killed three times", ""]
        lines += md_table(
            ["measure", "value"],
            [
                [
                    "deliveries sent (paid + duplicates + reordered)",
                    (
                        f"{soak['deliveries_sent']} ({soak['deposits']} + "
                        f"{soak['duplicates_sent']} + {soak['reordered_sent']})"
                    ),
                ],
                [
                    "worker killed (SIGKILL) at credited",
                    ", ".join(str(k["at_credited"]) for k in soak["kills"]),
                ],
                ["credited / lost", f"{soak['credited']} / {soak['lost']}"],
                ["double credits", soak["double_credits"]],
                ["wallets with a wrong balance", soak["wrong_balances"]],
                ["ledger check", "ok" if soak["ledger_check_ok"] else "FAILED"],
                [
                    "delivery states",
                    ", ".join(f"{k} {v}" for k, v in sorted(soak["delivery_states"].items())),
                ],
                ["seconds", soak["seconds"]],
            ],
        )
        lines += [
            "",
            (
                "Target (0 lost, 0 double, invariant holds): "
                f"**{'met' if soak['target_met'] else 'not met'}**."
            ),
            "",
        ]
    return "\n".join(lines)


def main() -> int:  # noqa: PLR0915
    parser = argparse.ArgumentParser()
    parser.add_argument("--only", default="intake,settle,soak")
    parser.add_argument("--duration", type=int, default=10)
    parser.add_argument("--connections", type=int, default=64)
    parser.add_argument("--bodies", type=int, default=30000)
    parser.add_argument("--paced-duration", type=int, default=10)
    parser.add_argument("--deposits", type=int, default=400)
    parser.add_argument("--soak-deposits", type=int, default=800)
    parser.add_argument("--concurrency", type=int, default=4)
    args = parser.parse_args()
    phases = set(args.only.split(","))
    logging.getLogger("httpx").setLevel(logging.WARNING)
    install_signal_handlers()
    wrk = ensure_wrk()
    from cryptography.fernet import Fernet

    from tessera.payments.providers import signing

    logs = OUT / "tmp" / "payments"
    static = Path(tempfile.mkdtemp(prefix="pay-bench-static-"))
    env = tessera_env(static)
    env.update(
        {
            "DATABASE_URL": f"{PG}/{DB}",
            "REDIS_URL": REDIS,
            "CELERY_BROKER_URL": BROKER,
            "PAYMENTS_PROVIDER": "sandbox",
            "PAYMENTS_SANDBOX_ALLOWED": "true",
            "PAYMENTS_SANDBOX_PRIVATE_KEY": signing.private_pem(signing.generate_private_key()),
            "PAYMENTS_ENCRYPTION_KEYS": Fernet.generate_key().decode(),
            "PAYMENTS_PUBLIC_URL": "http://127.0.0.1:18419",
            "TESSERA_VAR_DIR": str(static / "var"),
            "RATE_LIMIT_ENABLED": "false",
            "DB_POOL_MAX_SIZE": "8",
        }
    )
    psql(f"DROP DATABASE IF EXISTS {DB} WITH (FORCE)")
    psql(f"CREATE DATABASE {DB}")
    manage(["migrate", "--noinput"], env, logs / "migrate.log")
    manage(["collectstatic", "--noinput", "--clear"], env, logs / "collectstatic.log")
    os.environ.update(env)
    import django

    django.setup()
    stamp = datetime.now(UTC).strftime("%Y%m%dT%H%M%SZ")
    results: dict[str, Any] = {
        "stamp": stamp,
        "machine": describe(REPO, wrk, wrk_version(wrk)),
        "args": vars(args),
        "command": " ".join(["bench/payments/run.py", *sys.argv[1:]]),
    }
    registry = Registry()
    try:
        if "settle" in phases:
            print("settle ...", flush=True)
            results["settle"] = run_settle(args, registry, env, logs)
        if "soak" in phases:
            print("soak ...", flush=True)
            results["soak"] = run_soak(args, registry, env, logs)
        if "intake" in phases:
            print("intake ...", flush=True)
            results["intake"] = run_intake(args, registry, env, logs, wrk)
    finally:
        registry.stop_all()
        try:
            purge()
        except Exception as exc:  # noqa: BLE001 - best effort
            print(f"  ! could not purge the queue: {exc}")
        OUT.mkdir(parents=True, exist_ok=True)
        (OUT / f"payments-{stamp}.json").write_text(json.dumps(results, indent=2, default=str))
        (OUT / f"payments-{stamp}.md").write_text(markdown(results))
        from django.db import connections

        connections.close_all()
        psql(f"DROP DATABASE IF EXISTS {DB} WITH (FORCE)")
    print(markdown(results))
    return 0


if __name__ == "__main__":
    raise SystemExit(main())
