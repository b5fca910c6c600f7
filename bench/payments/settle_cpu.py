"""CPU of settling one deposit, measured in process: everything a worker does after the
intake stored the paid webhook (the drain, the order, the ledger, the notices, their emails).

    .venv/bin/python bench/payments/settle_cpu.py [--deposits 1000] [--warm 100]
        [--profile cprofile|none] [--top 40]

Production settings (`config.localprod.production_env`) on PostgreSQL and the Redis cache;
the deposits are made through the service and their paid webhooks stored through
`webhook_receive`, as the intake would, with the task queue held back (eager tasks off, the
broker purged). Then the drain and the notice drain run in this process, as the worker runs
them, and `time.process_time()` is read around them: CPU per deposit settled, then a profile
of the same work over another batch. Emails go to the local-memory back end, so their
rendering counts and no mail server does.

Uses only its own names: database `tessera_lead_settle_cpu` (dropped and re-created), Redis
database 13, RabbitMQ vhost `tessera_lead` (purged). Not a test: no assertion on time.
"""

from __future__ import annotations

import argparse
import io
import os
import subprocess
import sys
import tempfile
import time
from pathlib import Path
from typing import Any

REPO = Path(__file__).resolve().parents[2]
sys.path.insert(0, str(REPO))
sys.path.insert(0, str(REPO / "bench"))
sys.path.insert(0, str(Path(__file__).resolve().parent))

from config.localprod import production_env  # noqa: E402

PG = "postgresql://postgres@127.0.0.1:5432"
DB = "tessera_lead_settle_cpu"
REDIS = "redis://127.0.0.1:6379/13"
BROKER = "amqp://guest:guest@127.0.0.1:5672/tessera_lead"


def psql(sql: str) -> None:
    subprocess.run(["psql", f"{PG}/postgres", "-v", "ON_ERROR_STOP=1", "-qc", sql], check=True)


def environment() -> dict[str, str]:
    static = Path(tempfile.mkdtemp(prefix="settle-cpu-"))
    return production_env(
        DATABASE_URL=f"{PG}/{DB}",
        REDIS_URL=REDIS,
        CELERY_BROKER_URL=BROKER,
        RATE_LIMIT_ENABLED="false",
        LOG_LEVEL="WARNING",
        STATIC_ROOT=str(static),
        TESSERA_VAR_DIR=str(static / "var"),
        EMAIL_BACKEND="django.core.mail.backends.locmem.EmailBackend",
        # Every email sent in the measured run, not the first 100 of each second.
        NOTIFICATIONS_EMAIL_SEND_RATE="1000000/second",
    )


def stored_deposits(count: int) -> None:
    """`count` pending deposits, each with its paid webhook stored `received`."""
    from run import make_deposits  # bench/payments/run.py: the settle bench's own deposits

    from config.celery import app
    from tessera.payments import services

    for _tx, body, signature in make_deposits(count, people=max(1, count // 40)):
        services.webhook_receive(
            provider_name="sandbox",
            body=body,
            headers={"X-Signature": signature, "Content-Type": "application/json"},
        )
    app.control.purge()  # the drains the intake scheduled: this process runs them


def settle_all() -> tuple[int, int]:
    """What the worker's drains do: every received delivery processed, every notice sent
    (with its email). Returns (deliveries processed, notices' emails sent)."""
    from django.core import mail

    from tessera.notifications.models import Channel
    from tessera.notifications.sending import deliveries_send_queued
    from tessera.payments import services
    from tessera.wallet.services import transactions_notify_due

    processed = 0
    while True:
        result = services.webhooks_drain()
        processed += result.processed
        if not result.processed:
            break
    transactions_notify_due()
    for channel in (Channel.EMAIL, Channel.SMS):
        while deliveries_send_queued(channel=channel).more:
            pass
    return processed, len(getattr(mail, "outbox", []))


def main() -> int:
    parser = argparse.ArgumentParser()
    parser.add_argument("--deposits", type=int, default=1000)
    parser.add_argument("--warm", type=int, default=100)
    parser.add_argument("--profile", choices=["cprofile", "none"], default="none")
    parser.add_argument("--top", type=int, default=40)
    args = parser.parse_args()

    env = environment()
    psql(f"DROP DATABASE IF EXISTS {DB} WITH (FORCE)")
    psql(f"CREATE DATABASE {DB}")
    subprocess.run(
        [sys.executable, str(REPO / "manage.py"), "migrate", "--noinput", "-v", "0"],
        cwd=REPO,
        env={**os.environ, **env},
        check=True,
    )
    os.environ.update(env)
    import django

    django.setup()
    from django.core import mail

    mail.outbox = []

    stored_deposits(args.warm)
    settle_all()
    stored_deposits(args.deposits)
    mail.outbox = []
    statements = 0

    def count(execute: Any, sql: str, params: Any, many: bool, context: Any) -> Any:  # noqa: FBT001 - Django's wrapper signature
        nonlocal statements
        statements += 1
        return execute(sql, params, many, context)

    from django.db import connection

    started = time.process_time()
    with connection.execute_wrapper(count):
        processed, emails = settle_all()
    cpu = time.process_time() - started
    per = max(1, processed)
    print(
        f"{processed} deposits settled ({emails} emails): CPU per deposit "
        f"{cpu / per * 1000:.2f} ms, SQL statements per deposit {statements / per:.1f}"
    )
    if args.profile == "cprofile":
        import cProfile
        import pstats

        stored_deposits(args.deposits)
        profiler = cProfile.Profile(time.process_time)
        profiler.enable()
        settle_all()
        profiler.disable()
        out = io.StringIO()
        stats = pstats.Stats(profiler, stream=out)
        stats.sort_stats("cumulative").print_stats(args.top)
        stats.sort_stats("tottime").print_stats(args.top)
        print(out.getvalue())

    from django.db import connections

    from config.celery import app

    app.control.purge()
    connections.close_all()
    psql(f"DROP DATABASE IF EXISTS {DB} WITH (FORCE)")
    return 0


if __name__ == "__main__":
    raise SystemExit(main())
