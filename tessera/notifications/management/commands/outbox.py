"""`manage.py outbox --to ADDRESS [--code | --link]`: the latest email or SMS queued for an
address, in development.

What a person would copy from the `make run` terminal (a sign-up code, a reset link), for
scripts and the README's examples: the message is read from the delivery queue, so it is
there as soon as the request that sent it has answered, worker or not.

Development only: with a real provider configured (Twilio, SendGrid, any email back end
other than console, file or locmem) it refuses, so it never becomes a way to read people's
codes on a real deployment.
"""

from __future__ import annotations

import re
import time
from typing import Any

from django.conf import settings
from django.core.management.base import BaseCommand, CommandError, CommandParser

from tessera.notifications.models import Channel, Delivery

LOCAL_SMS = {"console", "file", "memory"}
LOCAL_EMAIL = {
    "django.core.mail.backends.console.EmailBackend",
    "django.core.mail.backends.filebased.EmailBackend",
    "django.core.mail.backends.locmem.EmailBackend",
}
CODE = re.compile(r"(?<![\d:-])\d{4,8}(?![\d:-])")
LINK = re.compile(r"https?://[^\s<>\"]+")


class Command(BaseCommand):
    help = "Print the latest email or SMS queued for an address (development only)."

    def add_arguments(self, parser: CommandParser) -> None:
        parser.add_argument("--to", required=True, help="an email address or E.164 number")
        shown = parser.add_mutually_exclusive_group()
        shown.add_argument("--code", action="store_true", help="print only its code")
        shown.add_argument("--link", action="store_true", help="print only its first link")
        parser.add_argument("--kind", default="", help="only messages of this kind")
        parser.add_argument(
            "--wait",
            type=float,
            default=30.0,
            help="seconds to wait for a message to arrive (default 30; a worker sends some)",
        )

    def handle(self, *args: Any, **options: Any) -> None:
        refuse_real_providers()
        recipient = options["to"].strip()
        deadline = time.monotonic() + max(0.0, options["wait"])
        while True:
            delivery = latest(recipient, kind=options["kind"])
            if delivery is not None or time.monotonic() >= deadline:
                break
            time.sleep(0.2)
        if delivery is None:
            raise CommandError(f"No message to {recipient} yet.")
        if options["code"]:
            self.stdout.write(extract(CODE, delivery.body, "code", recipient))
        elif options["link"]:
            self.stdout.write(extract(LINK, delivery.body, "link", recipient))
        else:
            heading = f"{delivery.channel} to {delivery.recipient} ({delivery.kind or '-'})"
            subject = f"\nSubject: {delivery.subject}" if delivery.subject else ""
            self.stdout.write(f"{heading}, {delivery.created_at:%Y-%m-%d %H:%M:%S}Z{subject}")
            self.stdout.write(delivery.body)


def refuse_real_providers() -> None:
    if settings.SMS_BACKEND not in LOCAL_SMS or settings.EMAIL_BACKEND not in LOCAL_EMAIL:
        raise CommandError(
            "outbox is for development: messages here go to real providers "
            f"(SMS_BACKEND={settings.SMS_BACKEND}, EMAIL_BACKEND={settings.EMAIL_BACKEND})."
        )


def latest(recipient: str, *, kind: str) -> Delivery | None:
    found = Delivery.objects.exclude(channel=Channel.IN_APP).filter(recipient__iexact=recipient)
    if kind:
        found = found.filter(kind=kind)
    return found.order_by("-created_at", "-id").first()


def extract(pattern: re.Pattern[str], body: str, what: str, recipient: str) -> str:
    match = pattern.search(body)
    if match is None:
        raise CommandError(f"The latest message to {recipient} has no {what}.")
    return match.group(0)
