"""Send dead-lettered webhook deliveries through processing again (the admin's *Replay*
action, for operators at a shell).

    manage.py webhooks_replay --dry-run
    manage.py webhooks_replay --provider revio --since 2026-12-01 --limit 100
    manage.py webhooks_replay --id 0192…  --id 0193…

Only deliveries in the `failed` state whose signature was accepted are replayed; each goes
back to `received`, is audited as `payments.webhook.replayed` and is queued once the command
commits. Processing is idempotent per event, so a replayed delivery whose effect did happen
changes nothing.
"""

from __future__ import annotations

from typing import Any

from django.core.management.base import BaseCommand, CommandParser

from tessera.core.management.options import since_option
from tessera.payments import services
from tessera.payments.models import DeliveryState, WebhookDelivery


class Command(BaseCommand):
    help = "Replay dead-lettered webhook deliveries, by provider, id or age."

    def add_arguments(self, parser: CommandParser) -> None:
        parser.add_argument("--provider", help="only deliveries from this provider")
        parser.add_argument("--id", action="append", default=[], help="a delivery id (repeatable)")
        parser.add_argument("--since", help="only deliveries received at or after this time")
        parser.add_argument("--limit", type=int, default=1000)
        parser.add_argument("--dry-run", action="store_true", help="list, replay nothing")

    def handle(self, *args: Any, **options: Any) -> None:
        dead = WebhookDelivery.objects.filter(state=DeliveryState.FAILED, accepted=True)
        if options["provider"]:
            dead = dead.filter(provider=options["provider"])
        if options["id"]:
            dead = dead.filter(pk__in=options["id"])
        if options["since"]:
            dead = dead.filter(created_at__gte=since_option(options["since"]))
        chosen = list(dead.order_by("created_at")[: max(0, options["limit"])])
        for delivery in chosen:
            verb = "would replay" if options["dry_run"] else "replaying"
            self.stdout.write(
                f"{verb} {delivery.provider} {delivery.event_type} {delivery.pk} "
                f"({delivery.last_error[:80]})"
            )
        if options["dry_run"]:
            self.stdout.write(f"{len(chosen)} delivery(ies) listed")
            return
        replayed = services.webhook_replay(delivery_ids=[d.pk for d in chosen])
        self.stdout.write(f"{replayed} delivery(ies) sent to processing again")
