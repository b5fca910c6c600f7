"""Run by test_dbrouter.py in a process of its own, with production settings on a primary
(DATABASE_URL) and a streaming replica (DATABASE_REPLICA_URLS); prints what it saw as JSON.

Replay on the replica is paused around each step, so a row written on the primary is visible
on the primary only: what a request sees tells which database served it.
"""

from __future__ import annotations

import json
import os
import sys
import time
from datetime import UTC, datetime, timedelta
from typing import Any

import django
import psycopg

django.setup()

from django.conf import settings  # noqa: E402
from django.db import connections  # noqa: E402
from django.test import Client  # noqa: E402

from tessera.accounts.models import User  # noqa: E402
from tessera.accounts.tokens import access_token_issue  # noqa: E402

PRIMARY_URL = os.environ["DATABASE_URL"]
REPLICA_URL = os.environ["DATABASE_REPLICA_URLS"]
queries = {"default": 0, "replica1": 0}


def _counting(alias: str) -> Any:
    def wrapper(execute: Any, sql: str, params: Any, many: bool, context: Any) -> Any:
        queries[alias] += 1
        return execute(sql, params, many, context)

    return wrapper


def _replica(statement: str) -> Any:
    with psycopg.connect(REPLICA_URL, autocommit=True) as conn:
        row = conn.execute(statement).fetchone()
        return row[0] if row else None


def pause() -> None:
    _replica("SELECT pg_wal_replay_pause()")


def resume_and_catch_up() -> None:
    _replica("SELECT pg_wal_replay_resume()")
    with psycopg.connect(PRIMARY_URL, autocommit=True) as conn:
        row = conn.execute("SELECT pg_current_wal_lsn()::text").fetchone()
        target = row[0] if row else "0/0"
    deadline = time.monotonic() + 30
    while not _replica(f"SELECT pg_last_wal_replay_lsn() >= '{target}'::pg_lsn"):
        if time.monotonic() > deadline:
            sys.exit("the replica did not catch up")
        time.sleep(0.05)


class Counted:
    """Queries each database served during one request."""

    def __init__(self, client: Client) -> None:
        self.client = client

    def __call__(self, method: str, path: str, body: Any = None) -> dict[str, Any]:
        before = dict(queries)
        if method == "GET":
            reply = self.client.get(path)
        else:
            reply = self.client.post(path, data=body, content_type="application/json")
        data = reply.json().get("data") if reply.content else None
        return {
            "status": reply.status_code,
            "data": data,
            "primary": queries["default"] - before["default"],
            "replica": queries["replica1"] - before["replica1"],
        }


def _inbox_titles(reply: dict[str, Any]) -> list[str]:
    return [item["title"] for item in (reply["data"] or {}).get("items", [])]


def main() -> None:
    for alias in ("default", "replica1"):
        connections[alias].execute_wrappers.append(_counting(alias))
    pin = settings.DATABASE_REPLICA_PIN_SECONDS
    unlock = (datetime.now(tz=UTC) + timedelta(days=30)).strftime("%Y-%m-%dT%H:%M:%SZ")
    ada = User.objects.create_user(email="ada@example.com", password="long enough pw", name="Ada")
    bob = User.objects.create_user(email="bob@example.com", password="long enough pw", name="Bob")
    as_ada = Counted(Client(HTTP_AUTHORIZATION=f"Bearer {access_token_issue(user=ada)}"))
    as_bob = Counted(Client(HTTP_AUTHORIZATION=f"Bearer {access_token_issue(user=bob)}"))
    resume_and_catch_up()
    seen: dict[str, Any] = {"pin_seconds": pin}

    # 1. Ada writes while the replica is frozen; her own reads follow her to the primary,
    #    Bob's come from the replica, which has not seen the capsule yet.
    pause()
    created = as_ada("POST", "/api/capsules", {"title": "First", "receiverEmail": bob.email})
    seen["write"] = {k: created[k] for k in ("status", "primary", "replica")}
    capsule_id = created["data"]["id"]
    sealed = as_ada("POST", f"/api/capsules/{capsule_id}/seal", {"scheduledUnlockAt": unlock})
    seen["seal_status"] = sealed["status"]
    outbox = as_ada("GET", "/api/capsules?box=outbox")
    seen["writer_reads_own_write"] = {
        "titles": _inbox_titles(outbox),
        "primary": outbox["primary"],
        "replica": outbox["replica"],
    }
    # Bob is the capsule's receiver: the written row names him, so he is pinned too.
    inbox = as_bob("GET", "/api/capsules?box=inbox")
    seen["receiver_pinned_by_row"] = {"titles": _inbox_titles(inbox), "replica": inbox["replica"]}

    # 2. After the pin window, the same reads go to the frozen replica: the capsule is not
    #    there yet; once replay resumes, it is.
    time.sleep(pin + 0.5)
    stale = as_bob("GET", "/api/capsules?box=inbox")
    seen["after_window_frozen"] = {"titles": _inbox_titles(stale), "replica": stale["replica"]}
    resume_and_catch_up()
    fresh = as_bob("GET", "/api/capsules?box=inbox")
    seen["after_window_caught_up"] = {
        "titles": _inbox_titles(fresh),
        "primary": fresh["primary"],
        "replica": fresh["replica"],
    }

    # 3. Security state is read from the primary: an account created while the replica is
    #    frozen signs in at once.
    pause()
    cy = User.objects.create_user(email="cy@example.com", password="long enough pw", name="Cy")
    as_cy = Counted(Client(HTTP_AUTHORIZATION=f"Bearer {access_token_issue(user=cy)}"))
    me = as_cy("GET", "/api/capsules?box=inbox")
    seen["new_account_reads"] = {"status": me["status"], "replica": me["replica"]}
    resume_and_catch_up()
    sys.stdout.write(json.dumps(seen) + "\n")


if __name__ == "__main__":
    main()
