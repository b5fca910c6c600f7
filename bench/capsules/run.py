"""Unlock sweep and notification fan-out on PostgreSQL: 1,000,000 due capsules.

    .venv/bin/python bench/capsules/run.py [--rows 1000000] [--receivers 1000000]
        [--batch 100000] [--fanout-batch 2000] [--fanout-workers 1] [--db NAME] [--keep-db]

Creates (drops first) the database `--db` (default `tessera_notify_bench_capsules`),
migrates it, inserts `--receivers` users (one in five Arabic, one in a hundred with the
"capsules.ready" email turned off) and `--rows` due capsules spread over them with
`INSERT … SELECT generate_series`, then in the same run times

1. the sweep's ceiling: one bare `UPDATE capsules_capsule SET state = 'ready' WHERE …`;
2. the state is put back and the table rewritten (`VACUUM FULL`) so both start equal;
3. Tessera's sweep (`capsule_unlock_sweep`): batched `UPDATE … RETURNING` guarded by the
   state plus one outbox row (`CapsuleEvent`) per capsule;
4. the fan-out's ceiling: a bare `INSERT … SELECT` of the same rows the fan-out writes (one
   in-app notification per event with its rendered title, body and data; one queued email
   delivery per event whose receiver did not turn it off), then both tables emptied;
5. Tessera's fan-out (`capsule_notify_events`) in `--fanout-workers` processes: claimed
   batches of events, `notify_many` per batch (users, preferences and templates read once,
   each template compiled once per language, `bulk_create`), `notified_at` set — in-app
   notifications written and email deliveries queued (sending tasks go to an in-memory
   broker nobody reads: sending is step 6);
6. sending a sample of the queued emails from a worker in batches
   (`deliveries_send_queued`, Django's in-memory email back end, no rate limit), for its
   rate.

Writes `bench/results/capsules-<stamp>.json` and `.md`, then drops the database (unless
`--keep-db`). Not a test: no assertion on time.
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
DEFAULT_DB = "tessera_notify_bench_capsules"


def _psql(sql: str, db: str = "postgres") -> None:
    subprocess.run(["psql", f"{SERVER}/{db}", "-v", "ON_ERROR_STOP=1", "-qc", sql], check=True)


def _env(db: str) -> dict[str, str]:
    return {
        **os.environ,
        "DATABASE_URL": f"{SERVER}/{db}",
        "DJANGO_SETTINGS_MODULE": "config.settings.dev",
        "DJANGO_DEBUG": "false",  # no query log: it would keep every INSERT's text
        "LOG_LEVEL": "WARNING",
        # Sending tasks go to an in-process broker nobody reads: step 5 measures the
        # writes, step 6 the sending.
        "CELERY_TASK_ALWAYS_EAGER": "false",
        "CELERY_BROKER_URL": "memory://",
        "EMAIL_BACKEND": "django.core.mail.backends.locmem.EmailBackend",
        "NOTIFICATIONS_EMAIL_SEND_RATE": "",
        "TESSERA_VAR_DIR": os.environ.get("TESSERA_VAR_DIR", str(REPO / "var" / "bench-capsules")),
    }


def fanout_child(batch: int) -> int:
    """`--fanout-child`: one fan-out worker process (run by the parent, step 5)."""
    import django

    django.setup()
    from tessera.capsules.services import capsule_notify_events

    handled = capsule_notify_events(batch_size=batch)
    print(json.dumps({"handled": handled}))
    return 0


def _insert_users(sql: Any, receivers: int) -> float:
    """`receivers` users in one statement, built from the user model's own columns (so a
    column added later still gets its default)."""
    from django.contrib.auth import get_user_model
    from django.db.models.fields import NOT_PROVIDED

    explicit = {
        "id": "gen_random_uuid()",
        "email": "'r' || n || '@bench.local'",
        "name": "'Receiver ' || n",
        "language": "CASE WHEN n % 5 = 0 THEN 'ar' ELSE 'en' END",
        "password": "'!'",
    }
    columns, values, params = [], [], []
    for field in get_user_model()._meta.concrete_fields:
        columns.append(field.column)
        if field.column in explicit:
            values.append(explicit[field.column].replace("%", "%%"))
        elif field.get_internal_type() == "DateTimeField" and not field.null:
            values.append("now()")
        elif field.default is not NOT_PROVIDED and not callable(field.default):
            values.append("%s")
            params.append(field.default)
        else:
            values.append("NULL")
    seconds, _ = sql(
        f"INSERT INTO accounts_user ({', '.join(columns)}) "  # noqa: S608 - model columns
        f"SELECT {', '.join(values)} FROM generate_series(1, %s) AS n",
        [*params, receivers],
    )
    return seconds


# The fan-out's rows, written by PostgreSQL alone: what `notify_many` writes for each event,
# with the same texts (the English and Arabic templates' words around the same values).
_BARE_NOTIFICATIONS = """
    INSERT INTO notifications_notification
        (id, created_at, updated_at, user_id, kind, title, body, data, read_at)
    SELECT gen_random_uuid(), now(), now(), c.receiver_id, 'capsules.ready',
        CASE WHEN u.language = 'ar' THEN 'كبسولتك الزمنية جاهزة'
             ELSE 'Your time capsule is ready' END,
        CASE WHEN u.language = 'ar'
             THEN 'يمكنك الآن فتح «' || c.title || '» من ' || s.name || '.'
             ELSE '“' || c.title || '” from ' || s.name || ' can be opened now.' END,
        jsonb_build_object('capsuleId', c.id::text), NULL
    FROM capsules_capsuleevent e
    JOIN capsules_capsule c ON c.id = e.capsule_id
    JOIN accounts_user u ON u.id = c.receiver_id
    JOIN accounts_user s ON s.id = c.sender_id
"""
_BARE_DELIVERIES = """
    INSERT INTO notifications_delivery
        (id, created_at, updated_at, user_id, notification_id, kind, channel, language,
         recipient, subject, body, critical, status, attempts, last_error,
         provider_message_id, sent_at, next_attempt_at)
    SELECT gen_random_uuid(), now(), now(), n.user_id, n.id, 'capsules.ready', 'email',
        u.language, u.email,
        CASE WHEN u.language = 'ar' THEN 'كبسولتك الزمنية من ' || s.name || ' جاهزة'
             ELSE 'Your time capsule from ' || s.name || ' is ready' END,
        CASE WHEN u.language = 'ar'
             THEN 'مرحبًا،' || E'\\n\\n' || 'فُتح قفل الكبسولة الزمنية «' || c.title
                  || '» التي ختمها لك ' || s.name || '. افتح تيسيرا لقراءتها.' || E'\\n\\n'
                  || 'فريق تيسيرا'
             ELSE 'Hello,' || E'\\n\\n' || 'The time capsule “' || c.title || '” that '
                  || s.name || ' sealed for you has unlocked. Open Tessera to read it.'
                  || E'\\n\\n' || 'The Tessera team' END,
        false, 'queued', 0, '', '', NULL, now()
    FROM notifications_notification n
    JOIN capsules_capsule c ON c.id = (n.data ->> 'capsuleId')::uuid
    JOIN accounts_user u ON u.id = n.user_id
    JOIN accounts_user s ON s.id = c.sender_id
    WHERE NOT EXISTS (
        SELECT 1 FROM notifications_notificationpreference p
        WHERE p.user_id = n.user_id AND p.kind IN ('capsules.ready', '*')
          AND p.channel = 'email' AND NOT p.enabled)
"""


def main() -> int:
    parser = argparse.ArgumentParser()
    parser.add_argument("--rows", type=int, default=1_000_000)
    parser.add_argument("--receivers", type=int, default=None, help="default: --rows")
    parser.add_argument("--batch", type=int, default=100_000)
    parser.add_argument("--fanout-batch", type=int, default=2_000)
    parser.add_argument("--fanout-workers", type=int, default=1)
    parser.add_argument("--send-sample", type=int, default=5_000)
    parser.add_argument("--db", default=DEFAULT_DB)
    parser.add_argument("--keep-db", action="store_true")
    parser.add_argument("--fanout-child", action="store_true", help=argparse.SUPPRESS)
    args = parser.parse_args()
    if args.fanout_child:
        return fanout_child(args.fanout_batch)
    receivers = args.receivers or args.rows

    _psql(f"DROP DATABASE IF EXISTS {args.db} WITH (FORCE)")
    _psql(f"CREATE DATABASE {args.db}")
    env = _env(args.db)
    try:
        subprocess.run(
            [sys.executable, "manage.py", "migrate", "-v", "0"], cwd=REPO, env=env, check=True
        )
        subprocess.run(
            [sys.executable, "manage.py", "createcachetable"], cwd=REPO, env=env, check=True
        )
        os.environ.update(env)
        return _run(args, receivers, env)
    finally:
        from django.db import connections

        if "django" in sys.modules:
            connections.close_all()
        if not args.keep_db:
            _psql(f"DROP DATABASE IF EXISTS {args.db} WITH (FORCE)")


def _run(args: Any, receivers: int, env: dict[str, str]) -> int:  # noqa: PLR0915
    import django

    django.setup()
    from benchlib.machine import describe, one_line
    from django.db import connection

    from tessera.accounts.models import User
    from tessera.capsules.models import CapsuleEvent
    from tessera.capsules.services import capsule_unlock_sweep
    from tessera.notifications.models import Delivery, Notification
    from tessera.notifications.sending import deliveries_send_queued

    sender = User.objects.create_user(email="sender@bench.local", name="Sender")

    def sql(statement: str, params: Any = None) -> tuple[float, int]:
        started = time.perf_counter()
        with connection.cursor() as cursor:
            cursor.execute(statement, params)
            count = cursor.rowcount
        return time.perf_counter() - started, count

    users_s = _insert_users(sql, receivers)
    sql(
        "INSERT INTO notifications_notificationpreference "
        "(id, created_at, updated_at, user_id, kind, channel, enabled) "
        "SELECT gen_random_uuid(), now(), now(), id, 'capsules.ready', 'email', false "
        "FROM accounts_user WHERE email LIKE 'r%%00@bench.local'"
    )
    insert_s, _ = sql(
        """
        INSERT INTO capsules_capsule (
            id, created_at, updated_at, sender_id, receiver_id, receiver_email,
            receiver_phone, title, body, theme, allow_early_view, allow_receiver_reply,
            state, sealed_at, scheduled_unlock_at, unfolds_at, opened_at, reply_body,
            replied_at)
        SELECT gen_random_uuid(), now() - interval '40 days', now() - interval '40 days',
            %(sender)s, r.id, '', '', 'Capsule ' || n, 'Body of capsule ' || n, '',
            false, false,
            CASE WHEN n %% 2 = 0 THEN 'sealed' ELSE 'unfolding' END,
            now() - interval '40 days', now() - (n %% 3600) * interval '1 second', NULL,
            NULL, '', NULL
        FROM generate_series(1, %(rows)s) AS n
        JOIN (SELECT id, row_number() OVER () - 1 AS k FROM accounts_user
              WHERE email LIKE 'r%%@bench.local') r ON r.k = n %% %(receivers)s
        """,
        {"sender": sender.pk, "rows": args.rows, "receivers": receivers},
    )
    sql("VACUUM ANALYZE")

    # 1-3: the sweep against a bare UPDATE.
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
    sql("VACUUM ANALYZE")

    # 4: the fan-out's ceiling, the same rows by INSERT … SELECT.
    bare_notifications_s, bare_notifications = sql(_BARE_NOTIFICATIONS)
    bare_deliveries_s, bare_deliveries = sql(_BARE_DELIVERIES)
    bare_insert_s = bare_notifications_s + bare_deliveries_s
    sql("TRUNCATE notifications_delivery, notifications_notification")
    sql("VACUUM ANALYZE")

    # 5: the fan-out, in worker processes.
    started = time.perf_counter()
    children = [
        subprocess.Popen(
            [sys.executable, __file__, "--fanout-child", "--fanout-batch", str(args.fanout_batch)],
            cwd=REPO,
            env=env,
            stdout=subprocess.PIPE,
            text=True,
        )
        for _ in range(args.fanout_workers)
    ]
    handled = []
    for child in children:
        out, _ = child.communicate()
        if child.returncode != 0:
            raise SystemExit(f"a fan-out worker failed ({child.returncode})")
        handled.append(json.loads(out.strip().splitlines()[-1])["handled"])
    fanout_s = time.perf_counter() - started
    notifications = Notification.objects.count()
    queued = Delivery.objects.filter(channel="email", status="queued").count()
    pending_events = CapsuleEvent.objects.filter(notified_at__isnull=True).count()

    # 6: sending a sample from a worker.
    started = time.perf_counter()
    report = deliveries_send_queued(
        channel="email", limit=args.send_sample, time_budget_seconds=3600
    )
    send_s = time.perf_counter() - started

    bare_rate = (bare_notifications + bare_deliveries) / bare_insert_s
    fanout_rate = (notifications + queued) / fanout_s
    results = {
        "benchmark": "capsules.unlock_sweep_and_fanout",
        "when": datetime.now(UTC).isoformat().replace("+00:00", "Z"),
        "machine": describe(REPO),
        "rows": args.rows,
        "receivers": receivers,
        "batch": args.batch,
        "fanout_batch": args.fanout_batch,
        "fanout_workers": args.fanout_workers,
        "insert_seconds": {"users": round(users_s, 3), "capsules": round(insert_s, 3)},
        "bare_update": {"seconds": round(bare_s, 3), "rows": bare_rows},
        "sweep": {"seconds": round(sweep_s, 3), "readied": result.readied, "outbox_rows": events},
        "sweep_ratio_of_bare_rate": round(bare_s / sweep_s, 3) if sweep_s else None,
        "bare_insert": {
            "seconds": round(bare_insert_s, 3),
            "notifications": bare_notifications,
            "notifications_seconds": round(bare_notifications_s, 3),
            "deliveries": bare_deliveries,
            "deliveries_seconds": round(bare_deliveries_s, 3),
            "rows_per_second": round(bare_rate),
        },
        "fanout": {
            "seconds": round(fanout_s, 3),
            "events_per_worker": handled,
            "notifications": notifications,
            "email_deliveries_queued": queued,
            "events_left": pending_events,
            "rows_per_second": round(fanout_rate),
        },
        "fanout_ratio_of_bare_insert_rate": round(fanout_rate / bare_rate, 3),
        "sweep_plus_fanout_seconds": round(sweep_s + fanout_s, 3),
        "send_sample": {**report.as_dict(), "seconds": round(send_s, 3)},
        "targets": {
            "sweep_seconds_max": 60,
            "sweep_ratio_min": 0.30,
            "fanout_seconds_max": 600,
            "fanout_ratio_min": 0.30,
        },
    }
    results["targets_met"] = {
        "sweep_within_60s": sweep_s <= 60,
        "sweep_ratio_at_least_0.30": (results["sweep_ratio_of_bare_rate"] or 0) >= 0.30,
        "fanout_within_600s": fanout_s <= 600,
        "fanout_ratio_at_least_0.30": results["fanout_ratio_of_bare_insert_rate"] >= 0.30,
    }
    out = REPO / "bench" / "results"
    out.mkdir(parents=True, exist_ok=True)
    stamp = datetime.now(UTC).strftime("%Y%m%dT%H%M%SZ")
    (out / f"capsules-{stamp}.json").write_text(json.dumps(results, indent=2, default=str))
    rows = notifications + queued
    md = [
        f"# Capsule unlock sweep and notification fan-out — {stamp}",
        "",
        f"Machine: {one_line(results['machine'])}",
        "",
        (
            f"{args.rows:,} due capsules to {receivers:,} receivers on PostgreSQL "
            f"(`{args.db}`); sweep batch {args.batch:,}, fan-out batch {args.fanout_batch:,} "
            f"events in {args.fanout_workers} worker process(es)."
        ),
        "",
        "| step | seconds | rows | rows/s |",
        "|---|---|---|---|",
        (
            f"| bare `UPDATE` (sweep ceiling) | {bare_s:.2f} | {bare_rows:,} "
            f"| {bare_rows / bare_s:,.0f} |"
        ),
        (
            f"| Tessera sweep (moves + outbox rows) | {sweep_s:.2f} | {result.readied:,} "
            f"| {result.readied / sweep_s:,.0f} |"
        ),
        (
            f"| bare `INSERT … SELECT` of the fan-out's rows (fan-out ceiling) "
            f"| {bare_insert_s:.2f} | {bare_notifications + bare_deliveries:,} | {bare_rate:,.0f} |"
        ),
        (
            f"| Tessera fan-out (in-app notifications + queued emails) | {fanout_s:.2f} "
            f"| {rows:,} | {fanout_rate:,.0f} |"
        ),
        "",
        (
            f"Sweep rate ÷ bare rate: **{results['sweep_ratio_of_bare_rate']}** (target ≥ 0.30); "
            f"within 60 s: **{sweep_s <= 60}**."
        ),
        (
            f"Fan-out rate ÷ bare insert rate: **{results['fanout_ratio_of_bare_insert_rate']}** "
            f"(target ≥ 0.30); within 10 minutes: **{fanout_s <= 600}** "
            f"({notifications:,} notifications, {queued:,} emails queued, {pending_events:,} "
            f"events left; events per worker {handled})."
        ),
        f"Sweep plus fan-out, end to end: **{sweep_s + fanout_s:.1f} s**.",
        (
            f"Sending a sample from one worker in batches (locmem email back end, no rate "
            f"limit): {report.sent:,} sent in {send_s:.1f} s ({report.sent / send_s:,.0f}/s)."
        ),
        "",
    ]
    (out / f"capsules-{stamp}.md").write_text("\n".join(md))
    print("\n".join(md))
    return 0


if __name__ == "__main__":
    raise SystemExit(main())
