"""Unlock-sweep throughput on PostgreSQL: 1,000,000 due capsules.

    .venv/bin/python bench/capsules/run.py [--rows 1000000] [--batch 20000]

Creates (drops first) the database `tessera_bench_capsules`, migrates it, inserts `--rows`
due capsules with one `INSERT … SELECT generate_series`, then in the same run times

1. the ceiling: one bare `UPDATE capsules_capsule SET state = 'ready' WHERE state IN
   ('sealed', 'unfolding') AND scheduled_unlock_at <= now()`;
2. the state is put back, the table rewritten (`VACUUM FULL`) so both start equal;
3. Tessera's sweep (`capsule_unlock_sweep`): batched `UPDATE … RETURNING` guarded by the
   state plus one outbox row (`CapsuleEvent`, the durable notification queue) per capsule;
4. delivery of a sample of those notifications (`capsule_notify_events`), for its rate.

Writes `bench/results/capsules-<stamp>.json` and `.md`. Not a test: no assertion on time.
"""

from __future__ import annotations

import argparse
import json
import os
import subprocess
import sys
import time
from datetime import UTC, datetime
from pathlib import Path
from typing import Any

REPO = Path(__file__).resolve().parents[2]
sys.path.insert(0, str(REPO))
sys.path.insert(0, str(REPO / "bench"))

SERVER = os.environ.get("BENCH_PG_SERVER", "postgresql://postgres@127.0.0.1:5432")
DB_NAME = "tessera_bench_capsules"


def _psql(sql: str, db: str = "postgres") -> None:
    subprocess.run(["psql", f"{SERVER}/{db}", "-v", "ON_ERROR_STOP=1", "-qc", sql], check=True)


def main() -> int:
    parser = argparse.ArgumentParser()
    parser.add_argument("--rows", type=int, default=1_000_000)
    parser.add_argument("--batch", type=int, default=100_000)
    parser.add_argument("--notify-sample", type=int, default=1_000)
    args = parser.parse_args()

    _psql(f"DROP DATABASE IF EXISTS {DB_NAME}")
    _psql(f"CREATE DATABASE {DB_NAME}")
    env = {
        **os.environ,
        "DATABASE_URL": f"{SERVER}/{DB_NAME}",
        "DJANGO_SETTINGS_MODULE": "config.settings.dev",
        "CELERY_TASK_ALWAYS_EAGER": "true",
        "EMAIL_BACKEND": "django.core.mail.backends.locmem.EmailBackend",
        "TESSERA_VAR_DIR": os.environ.get("TESSERA_VAR_DIR", str(REPO / "var" / "bench-capsules")),
    }
    subprocess.run(
        [sys.executable, "manage.py", "migrate", "-v", "0"], cwd=REPO, env=env, check=True
    )
    subprocess.run([sys.executable, "manage.py", "createcachetable"], cwd=REPO, env=env, check=True)
    os.environ.update(env)

    import django

    django.setup()
    from benchlib.machine import describe, one_line
    from django.db import connection

    from tessera.accounts.models import User
    from tessera.capsules.models import CapsuleEvent
    from tessera.capsules.services import capsule_notify_events, capsule_unlock_sweep

    sender = User.objects.create_user(email="sender@bench.local", name="Sender")
    receiver = User.objects.create_user(email="receiver@bench.local", name="Receiver")

    def sql(statement: str, params: Any = None) -> tuple[float, int]:
        started = time.perf_counter()
        with connection.cursor() as cursor:
            cursor.execute(statement, params)
            count = cursor.rowcount
        return time.perf_counter() - started, count

    insert_s, _ = sql(
        """
        INSERT INTO capsules_capsule (
            id, created_at, updated_at, sender_id, receiver_id, receiver_email,
            receiver_phone, title, body, theme, allow_early_view, allow_receiver_reply,
            state, sealed_at, scheduled_unlock_at, unfolds_at, opened_at, reply_body,
            replied_at)
        SELECT gen_random_uuid(), now() - interval '40 days', now() - interval '40 days',
            %(sender)s, %(receiver)s, '', '', 'Capsule ' || n, 'Body of capsule ' || n, '',
            false, false,
            CASE WHEN n %% 2 = 0 THEN 'sealed' ELSE 'unfolding' END,
            now() - interval '40 days', now() - (n %% 3600) * interval '1 second', NULL,
            NULL, '', NULL
        FROM generate_series(1, %(rows)s) AS n
        """,
        {"sender": sender.pk, "receiver": receiver.pk, "rows": args.rows},
    )
    sql("VACUUM ANALYZE capsules_capsule")

    bare_s, bare_rows = sql(
        "UPDATE capsules_capsule SET state = 'ready', updated_at = now() "
        "WHERE state IN ('sealed', 'unfolding') AND scheduled_unlock_at <= now()"
    )
    sql(
        "UPDATE capsules_capsule SET state = CASE WHEN title::text ~ '[02468]$' "
        "THEN 'sealed' ELSE 'unfolding' END"
    )
    sql("VACUUM FULL ANALYZE capsules_capsule")

    started = time.perf_counter()
    result = capsule_unlock_sweep(batch_size=args.batch, notify_after=False)
    sweep_s = time.perf_counter() - started
    events = CapsuleEvent.objects.count()

    started = time.perf_counter()
    notified = capsule_notify_events(batch_size=250, limit=args.notify_sample)
    notify_s = time.perf_counter() - started
    results = {
        "benchmark": "capsules.unlock_sweep",
        "when": datetime.now(UTC).isoformat().replace("+00:00", "Z"),
        "machine": describe(REPO),
        "rows": args.rows,
        "batch": args.batch,
        "insert_seconds": round(insert_s, 3),
        "bare_update": {"seconds": round(bare_s, 3), "rows": bare_rows},
        "sweep": {
            "seconds": round(sweep_s, 3),
            "readied": result.readied,
            "outbox_rows": events,
        },
        "ratio_of_bare_rate": round(bare_s / sweep_s, 3) if sweep_s else None,
        "notify_sample": {"seconds": round(notify_s, 3), "events": notified},
        "targets": {"sweep_seconds_max": 60, "ratio_min": 0.30},
    }
    results["targets_met"] = {
        "within_60s": sweep_s <= 60,
        "ratio_at_least_0.30": (results["ratio_of_bare_rate"] or 0) >= 0.30,
    }
    out = REPO / "bench" / "results"
    out.mkdir(parents=True, exist_ok=True)
    stamp = datetime.now(UTC).strftime("%Y%m%dT%H%M%SZ")
    (out / f"capsules-{stamp}.json").write_text(json.dumps(results, indent=2, default=str))
    md = [
        f"# Capsule unlock sweep — {stamp}",
        "",
        f"Machine: {one_line(results['machine'])}",
        "",
        f"{args.rows:,} due capsules on PostgreSQL (`{DB_NAME}`), batch {args.batch:,}.",
        "",
        "| step | seconds | rows | rows/s |",
        "|---|---|---|---|",
        f"| bare `UPDATE` (ceiling) | {bare_s:.2f} | {bare_rows:,} | {bare_rows / bare_s:,.0f} |",
        (
            f"| Tessera sweep (moves + outbox rows) | {sweep_s:.2f} | {result.readied:,} "
            f"| {result.readied / sweep_s:,.0f} |"
        ),
        "",
        (
            f"Sweep rate ÷ bare rate: **{results['ratio_of_bare_rate']}** (target ≥ 0.30); "
            f"within 60 s: **{sweep_s <= 60}**."
        ),
        f"Outbox rows written: {events:,} (one per capsule).",
        (
            "Notification delivery of a sample (in-process, in-app + email queued): "
            f"{notified:,} events in {notify_s:.1f} s ({notified / notify_s:,.0f}/s)."
        ),
        "",
    ]
    (out / f"capsules-{stamp}.md").write_text("\n".join(md))
    print("\n".join(md))
    return 0


if __name__ == "__main__":
    raise SystemExit(main())
