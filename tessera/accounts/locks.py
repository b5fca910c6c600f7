"""Serialising writes about something that may not have a row yet (a phone number, a
provider identity), inside the caller's transaction.

PostgreSQL: a transaction-level advisory lock on a 64-bit hash of the key, released at
commit or rollback. SQLite (the embedded default) already runs one writing transaction at
a time (`transaction_mode=IMMEDIATE`), so nothing is needed there.
"""

from __future__ import annotations

import hashlib

from django.db import connection


def advisory_lock(key: str) -> None:
    if connection.vendor != "postgresql":
        return
    lock_id = int.from_bytes(hashlib.sha256(key.encode()).digest()[:8], "big", signed=True)
    with connection.cursor() as cursor:
        cursor.execute("SELECT pg_advisory_xact_lock(%s)", [lock_id])
