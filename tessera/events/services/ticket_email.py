"""The ticket email: the code, and the QR code as an inline PNG (with the SVG attached).

Sent by Django's mail API (the console back end, SendGrid through anymail, …) rather than
`notifications.send_email`, whose deliveries are plain text without attachments. The
ticket row is its outbox: `emailed_at` is set in the transaction that sends, so a retried
task sends once. The person's preference for `events.ticket` email is respected.
"""

from __future__ import annotations

from email.mime.image import MIMEImage
from typing import Any

from django.conf import settings
from django.core.mail import EmailMultiAlternatives
from django.db import transaction
from django.utils.html import escape
from django.utils.translation import gettext as _
from django.utils.translation import override

from tessera.events import statemachine as sm
from tessera.events import tickets as codes
from tessera.events.models import Ticket
from tessera.events.selectors import ticket_secret
from tessera.events.services.common import now
from tessera.events.services.notify import event_facts
from tessera.notifications.selectors import preference_channels_enabled

KIND = "events.ticket"


def _message(ticket: Ticket, secret: str) -> EmailMultiAlternatives:
    event = ticket.event
    facts = {**event_facts(event), "code": ticket.display_code, "name": ticket.holder.name}
    subject = _("Your ticket: %(title)s") % facts
    text = (
        _(
            "Hello %(name)s,\n\nYour ticket for “%(title)s” on %(when)s at %(place)s.\n\n"
            "Show the QR code at the door, or give the code %(code)s.\n\n%(link)s\n"
        )
        % facts
    )
    html = (
        f"<p>{escape(text).replace(chr(10), '<br>')}</p>"
        '<p><img src="cid:ticket-qr" alt="QR code" width="300" height="300"></p>'
        f'<p style="font: 24px monospace">{escape(ticket.display_code)}</p>'
    )
    message = EmailMultiAlternatives(
        subject=subject,
        body=text,
        from_email=settings.DEFAULT_FROM_EMAIL,
        to=[ticket.holder.email or ""],
    )
    message.attach_alternative(html, "text/html")
    message.mixed_subtype = "related"  # type: ignore[attr-defined]
    image = MIMEImage(codes.qr_png(secret), _subtype="png")
    image.add_header("Content-ID", "<ticket-qr>")
    image.add_header("Content-Disposition", "inline", filename=f"ticket-{ticket.code}.png")
    message.attach(image)
    message.attach(f"ticket-{ticket.code}.svg", codes.qr_svg(secret), "image/svg+xml")
    return message


def ticket_email_deliver(*, ticket_id: Any) -> bool:
    """Send a valid ticket's email once; False when there is nothing to send."""
    with transaction.atomic():
        ticket = (
            Ticket.objects.select_for_update(of=("self",))
            .select_related("event", "event__venue", "holder")
            .filter(pk=ticket_id, status=sm.VALID, emailed_at__isnull=True)
            .first()
        )
        if ticket is None or not ticket.holder.email:
            return False
        if "email" not in preference_channels_enabled(
            user=ticket.holder, kind=KIND, channels=["email"]
        ):
            return False
        with override(ticket.holder.language or "en"):
            message = _message(ticket, ticket_secret(ticket))
        ticket.emailed_at = now()
        ticket.save(update_fields=["emailed_at", "updated_at"])
        # Sent inside the transaction: an error rolls `emailed_at` back and the task retries.
        message.send(fail_silently=False)
        return True
