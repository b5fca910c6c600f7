"""Load demo data for `make run`. Idempotent: running it twice adds nothing twice.

Creates the admin account (its generated password is kept in var/admin-password so every run
prints the same login) and calls `load()` in each installed Tessera app's `demo` module.
"""

from __future__ import annotations

import importlib
import secrets
from typing import Any

from django.apps import apps
from django.conf import settings
from django.contrib.auth import get_user_model
from django.core.management.base import BaseCommand
from django.db import transaction

from config.settings.env import VAR_DIR

ADMIN_EMAIL = "admin@tessera.local"
PASSWORD_FILE = VAR_DIR / "admin-password"


def admin_password() -> str:
    if PASSWORD_FILE.exists():
        return PASSWORD_FILE.read_text().strip()
    password = secrets.token_urlsafe(12)
    PASSWORD_FILE.parent.mkdir(parents=True, exist_ok=True)
    PASSWORD_FILE.write_text(password)
    PASSWORD_FILE.chmod(0o600)
    return password


class Command(BaseCommand):
    help = "Create the admin account and load each app's demo data (idempotent)."

    def handle(self, *args: Any, **options: Any) -> None:
        user_model = get_user_model()
        password = admin_password()
        with transaction.atomic():
            admin = user_model.objects.filter(email__iexact=ADMIN_EMAIL).first()
            if admin is None:
                user_model.objects.create_superuser(
                    email=ADMIN_EMAIL, password=password, name="Tessera Admin"
                )
                self.stdout.write(f"Created the admin account {ADMIN_EMAIL}")
        for app_config in apps.get_app_configs():
            if not app_config.name.startswith("tessera."):
                continue
            try:
                module = importlib.import_module(f"{app_config.name}.demo")
            except ModuleNotFoundError as exc:
                if exc.name != f"{app_config.name}.demo":
                    raise
                continue
            with transaction.atomic():
                created = module.load()
            self.stdout.write(f"Demo data for {app_config.label}: {created} new")
        self.stdout.write(
            self.style.SUCCESS(
                f"Admin login: {ADMIN_EMAIL} / {password}  (kept in {PASSWORD_FILE}; "
                f"settings {settings.SETTINGS_MODULE})"
            )
        )
