"""Send failed tasks (the dead letters under *Background tasks* in the admin) again.

    manage.py tasks_replay --name files.process_image --since 2026-12-01 --dry-run
    manage.py tasks_replay --id 0192…  --id 0193…
    manage.py tasks_replay --name capsules.notify_events --limit 100

Each record is sent again by its task name with the keyword arguments it failed with, under
its own id, so the row goes back to PENDING and follows the new run. Tasks are idempotent
(docs/decisions/0006), so replaying one whose effect did happen changes nothing. A record
without stored arguments (a task that takes none) is replayed as it was sent.
"""

from __future__ import annotations

import functools
from typing import Any

from celery import current_app
from django.core.management.base import BaseCommand, CommandError, CommandParser
from django.db import transaction
from django.utils import timezone

from tessera.core.management.options import since_option
from tessera.tasks.models import TaskRecord


class Command(BaseCommand):
    help = "Send failed tasks again (dead letters), by name, id or age."

    def add_arguments(self, parser: CommandParser) -> None:
        parser.add_argument("--name", help="only tasks with this registered name")
        parser.add_argument("--id", action="append", default=[], help="a task id (repeatable)")
        parser.add_argument("--since", help="only tasks that failed at or after this time")
        parser.add_argument("--limit", type=int, default=1000)
        parser.add_argument("--dry-run", action="store_true", help="list, send nothing")

    def handle(self, *args: Any, **options: Any) -> None:
        records = TaskRecord.objects.filter(state=TaskRecord.State.FAILURE).order_by("finished_at")
        if options["name"]:
            records = records.filter(name=options["name"])
        if options["id"]:
            records = records.filter(pk__in=options["id"])
        if options["since"]:
            since = since_option(options["since"])
            records = records.filter(finished_at__gte=since)
        current_app.loader.import_default_modules()  # every app's tasks, as a worker loads
        known = set(current_app.tasks)
        chosen = list(records[: options["limit"]])
        unknown = sorted({r.name for r in chosen if r.name not in known})
        if unknown:
            raise CommandError(f"no task registered as {', '.join(unknown)}: is its app on?")
        for record in chosen:
            self.stdout.write(
                f"{'would send' if options['dry_run'] else 'sent'} {record.name} "
                f"{record.pk} ({record.error[:80]})"
            )
            if options["dry_run"]:
                continue
            with transaction.atomic():
                TaskRecord.objects.filter(pk=record.pk).update(
                    state=TaskRecord.State.PENDING, finished_at=None, updated_at=timezone.now()
                )
                kwargs = record.arguments if isinstance(record.arguments, dict) else {}
                task = current_app.tasks[record.name]
                transaction.on_commit(
                    functools.partial(task.apply_async, kwargs=kwargs, task_id=str(record.pk))
                )
        self.stdout.write(f"{len(chosen)} task(s) {'listed' if options['dry_run'] else 'sent'}")
