"""Make the database ready for `make run`, in one process, skipping what has nothing to do.

Each `manage.py` process spends about 2.5 s importing Django and the apps before it does
anything, so the three steps `make run` needs run here together, and each checks first:

- migrations run only when the migration plan is not empty (an up-to-date `migrate` still
  spends a second on its post-migrate work: content types, permissions);
- the database cache table is created only when it is missing (`createcachetable` checks);
- demo data: `seed_demo`, whose loaders add only what is missing.

Prints one line per step with its time, so a slow start says where it went.
"""

from __future__ import annotations

import time
from typing import Any

from django.core.management import call_command
from django.core.management.base import BaseCommand
from django.db import DEFAULT_DB_ALIAS, connections
from django.db.migrations.executor import MigrationExecutor


def pending_migrations(alias: str = DEFAULT_DB_ALIAS) -> int:
    """How many migrations `migrate` would apply to the database `alias`."""
    executor = MigrationExecutor(connections[alias])
    return len(executor.migration_plan(executor.loader.graph.leaf_nodes()))


class Command(BaseCommand):
    help = "Migrate (when needed), create the cache table (when missing), load demo data."

    def handle(self, *args: Any, **options: Any) -> None:
        started = time.monotonic()
        pending = pending_migrations()
        if pending:
            call_command("migrate", interactive=False, verbosity=0)
            self._step(f"applied {pending} migrations", started)
        else:
            self._step("migrations up to date", started)
        started = time.monotonic()
        call_command("createcachetable", verbosity=0)
        self._step("cache table ready", started)
        started = time.monotonic()
        call_command("seed_demo", stdout=self.stdout)
        self._step("demo data checked", started)

    def _step(self, what: str, started: float) -> None:
        self.stdout.write(f"[prepare] {what} ({time.monotonic() - started:.1f} s)")
