"""Seed the inbox benchmark's database and explain its queries (run by inbox.py under the
stack's own settings, so the access token is signed with the server's key).

    python bench/capsules/inbox_seed.py OUT.json --capsules 100000 --others 20000

One receiver gets `--capsules` sealed/unfolding/ready/opened capsules from 50 senders, plus
drafts addressed to them (which the inbox never shows); `--others` capsules go to other
users. Rows are written by `INSERT … SELECT generate_series` (one statement per set), then
`VACUUM ANALYZE`. Writes the receiver's access token, a cursor deep in the inbox, and
`EXPLAIN (ANALYZE, BUFFERS)` of every query one inbox request runs (first page and deep page).
"""

from __future__ import annotations

import argparse
import json
import re
import sys
from pathlib import Path
from typing import Any

import django

sys.path.insert(0, str(Path(__file__).resolve().parents[2]))
django.setup()

from django.db import connection  # noqa: E402
from django.test.utils import CaptureQueriesContext  # noqa: E402
from django.utils import timezone  # noqa: E402

from tessera.accounts.models import User  # noqa: E402
from tessera.accounts.services import session_start  # noqa: E402
from tessera.capsules import selectors  # noqa: E402

RECEIVER_EMAIL = "inbox-receiver@bench.local"
SENDERS = 50

_INSERT = """
    INSERT INTO capsules_capsule (
        id, created_at, updated_at, sender_id, receiver_id, receiver_email, receiver_phone,
        title, body, theme, allow_early_view, allow_receiver_reply, state, sealed_at,
        scheduled_unlock_at, unfolds_at, opened_at, reply_body, replied_at)
    SELECT gen_random_uuid(),
        now() - n * interval '37 seconds', now() - n * interval '37 seconds',
        (%(senders)s::uuid[])[1 + n %% array_length(%(senders)s::uuid[], 1)],
        %(receiver)s, '', '',
        'Capsule ' || n, repeat('A letter to the future. ', 8), 'paper', n %% 2 = 0, false,
        s.state,
        CASE WHEN s.state = 'draft' THEN NULL ELSE now() - n * interval '37 seconds' END,
        CASE WHEN s.state = 'draft' THEN NULL
             WHEN s.state IN ('ready', 'opened') THEN now() - interval '1 day'
             WHEN s.state = 'unfolding' THEN now() + interval '1 day'
             ELSE now() + interval '30 days' END,
        CASE WHEN s.state = 'sealed' THEN now() + interval '27 days' ELSE NULL END,
        CASE WHEN s.state = 'opened' THEN now() - interval '12 hours' ELSE NULL END,
        '', NULL
    FROM generate_series(1, %(rows)s) AS n
    CROSS JOIN LATERAL (
        SELECT (ARRAY['sealed', 'unfolding', 'ready', 'opened'])[1 + n %% 4] AS state
    ) AS s
"""

_DRAFTS = """
    INSERT INTO capsules_capsule (
        id, created_at, updated_at, sender_id, receiver_id, receiver_email, receiver_phone,
        title, body, theme, allow_early_view, allow_receiver_reply, state, reply_body)
    SELECT gen_random_uuid(), now() - n * interval '11 seconds', now(),
        (%(senders)s::uuid[])[1 + n %% array_length(%(senders)s::uuid[], 1)],
        %(receiver)s, '', '', 'Draft ' || n, 'not yet', '', false, false, 'draft', ''
    FROM generate_series(1, %(rows)s) AS n
"""


def _explain(statements: list[tuple[str, dict[str, Any]]]) -> list[dict[str, str]]:
    """`EXPLAIN (ANALYZE, BUFFERS)` of each statement as the server runs it: prepared (as
    `selectors._fetch_prepared` does) and executed a few times first, so the plan shown is
    the one the plan cache settles on (custom or generic)."""
    plans = []
    with connection.cursor() as cursor:
        for number, (sql, params) in enumerate(statements):
            names: list[str] = []

            def placeholder(match: re.Match[str], names: list[str] = names) -> str:
                if match.group(1) not in names:
                    names.append(match.group(1))
                return f"${names.index(match.group(1)) + 1}"

            text = re.sub(r"%\((\w+)\)s", placeholder, sql).replace("%%", "%")
            name = f"bench_page_{number}"
            cursor.execute(f"PREPARE {name} AS {text}")
            execute = f"EXECUTE {name}({', '.join(['%s'] * len(names))})"
            values = [params[n] for n in names]
            for _ in range(6):
                cursor.execute(execute, values)
            cursor.execute(f"EXPLAIN (ANALYZE, BUFFERS) {execute}", values)
            plan = "\n".join(row[0] for row in cursor.fetchall())
            plans.append({"sql": " ".join(sql.split()), "plan": plan})
            cursor.execute(f"DEALLOCATE {name}")
    return plans


def _request_statements(receiver: User, cursor: str | None) -> list[tuple[str, dict[str, Any]]]:
    """The statements one `GET /api/capsules?box=inbox[&cursor=]` runs after authentication."""
    statements: list[tuple[str, dict[str, Any]]] = []
    run = selectors._fetch_prepared

    def recording(sql: str, params: dict[str, Any]) -> tuple[Any, ...]:
        statements.append((sql, params))
        return run(sql, params)

    selectors._fetch_prepared = recording
    try:
        with CaptureQueriesContext(connection) as captured:
            # As the route asks: on the first page, whether capsules wait to be claimed.
            selectors.capsule_page(
                user=receiver,
                box="inbox",
                state=None,
                page=1,
                page_size=None,
                cursor=cursor,
                check_pending_claims=cursor is None,
            )
    finally:
        selectors._fetch_prepared = run
    if len(captured.captured_queries) != len(statements):
        raise SystemExit(f"expected one statement per query: {captured.captured_queries}")
    return statements


def main() -> None:
    parser = argparse.ArgumentParser()
    parser.add_argument("out", type=Path)
    parser.add_argument("--capsules", type=int, default=100_000)
    parser.add_argument("--others", type=int, default=20_000)
    parser.add_argument("--drafts", type=int, default=2_000)
    parser.add_argument("--deep-offset", type=int, default=90_000)
    args = parser.parse_args()

    now = timezone.now()
    receiver = User.objects.create_user(email=RECEIVER_EMAIL, name="Inbox Receiver")
    receiver.email_verified_at = now
    receiver.save(update_fields=["email_verified_at"])
    senders = [
        User.objects.create_user(email=f"sender{i}@bench.local", name=f"Sender {i}")
        for i in range(SENDERS)
    ]
    others = [
        User.objects.create_user(email=f"other{i}@bench.local", name=f"Other {i}")
        for i in range(20)
    ]
    sender_ids = [str(user.pk) for user in senders]
    with connection.cursor() as cursor:
        cursor.execute(
            _INSERT, {"senders": sender_ids, "receiver": receiver.pk, "rows": args.capsules}
        )
        cursor.execute(
            _DRAFTS, {"senders": sender_ids, "receiver": receiver.pk, "rows": args.drafts}
        )
        per_other = max(1, args.others // len(others))
        for other in others:
            cursor.execute(
                _INSERT, {"senders": sender_ids, "receiver": other.pk, "rows": per_other}
            )
        cursor.execute("VACUUM ANALYZE capsules_capsule")

    inbox = selectors.capsule_list(user=receiver, box="inbox")
    deep_offset = min(args.deep_offset, max(0, args.capsules - 1))
    deep_position = inbox[deep_offset]
    deep_cursor = selectors.cursor_for(deep_position)
    first = _request_statements(receiver, None)
    deep = _request_statements(receiver, deep_cursor)
    args.out.write_text(
        json.dumps(
            {
                "receiver_id": str(receiver.pk),
                # A signed-in session's token, as a real client holds (its check is cached).
                "access_token": session_start(user=receiver, method="password").access_token,
                "deep_cursor": deep_cursor,
                "deep_offset": deep_offset,
                "inbox_capsules": inbox.count(),
                "table_rows": {
                    "receiver": args.capsules,
                    "receiver_drafts": args.drafts,
                    "others": per_other * len(others),
                },
                "explain": {"first_page": _explain(first), "deep_page": _explain(deep)},
            },
            indent=2,
        )
    )


if __name__ == "__main__":
    main()
