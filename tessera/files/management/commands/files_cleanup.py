from __future__ import annotations

from typing import Any

from django.core.management.base import BaseCommand

from tessera.files.processing import files_cleanup


class Command(BaseCommand):
    help = (
        "Remove abandoned direct uploads, old rejected files, unattached files past their "
        "purpose's limit and stored objects no record knows (beat runs this daily)."
    )

    def handle(self, *args: Any, **options: Any) -> None:
        report = files_cleanup()
        for name, count in report.as_dict().items():
            self.stdout.write(f"{name}: {count}")
