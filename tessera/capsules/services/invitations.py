"""Receivers without an account: the invitation (email, or SMS for a phone-only receiver)
and attaching their capsules once they sign up and verify that address or number."""

from __future__ import annotations

from datetime import datetime

from django.conf import settings
from django.db import transaction
from django.db.models import Q
from django.utils import translation
from django.utils.translation import gettext as _

from tessera.accounts.models import User
from tessera.capsules import boxcache
from tessera.capsules.models import Capsule, Recipient
from tessera.capsules.selectors import pending_claims, verified_addresses
from tessera.capsules.services.common import _now
from tessera.core.links import site_url
from tessera.notifications.services import OutboundMessage, send_email, send_sms

INVITATION_KIND = "capsules.invitation"


def _invitation_language() -> str | None:
    """The language the invitation is written in (the sender's, active while sealing)."""
    language = translation.get_language() or settings.LANGUAGE_CODE
    return language if language != settings.LANGUAGE_CODE else None


def _invitation_facts(
    *,
    sender_name: str,
    title: str,
    unlock_at: datetime | None,
    receiver_email: str,
    receiver_phone: str,
) -> dict[str, str]:
    return {
        "name": sender_name or _("Someone"),
        "title": title,
        "when": unlock_at.strftime("%Y-%m-%d %H:%M") if unlock_at else "",
        "link": site_url(
            "/invitation",
            {
                "email": receiver_email or None,
                "phone": None if receiver_email else receiver_phone or None,
                "lang": _invitation_language(),
            },
        ),
    }


def invitation_message(
    *,
    sender_name: str,
    title: str,
    unlock_at: datetime | None,
    receiver_email: str,
    receiver_phone: str,
) -> OutboundMessage | None:
    """The invitation to a receiver who has no account: an email when the capsule names an
    address, else an SMS to its phone number (None when it names neither)."""
    facts = _invitation_facts(
        sender_name=sender_name,
        title=title,
        unlock_at=unlock_at,
        receiver_email=receiver_email,
        receiver_phone=receiver_phone,
    )
    if receiver_email:
        return OutboundMessage(
            channel="email",
            to=receiver_email,
            subject=_("%(name)s sent you a time capsule on Tessera") % facts,
            body=_(
                "%(name)s sealed a time capsule for you: “%(title)s”. It unlocks on %(when)s "
                "(UTC). Create a Tessera account with this email address to receive it:\n"
                "%(link)s\n"
            )
            % facts,
        )
    if receiver_phone:
        return OutboundMessage(
            channel="sms",
            to=receiver_phone,
            body=_(
                "%(name)s sealed a time capsule for you on Tessera: “%(title)s”, unlocking "
                "%(when)s UTC. Sign up with this phone number to receive it: %(link)s"
            )
            % facts,
        )
    return None


def _invite(capsule: Capsule) -> None:
    """Invite a receiver who has no account (queued on commit by the notifications module)."""
    message = invitation_message(
        sender_name=capsule.sender.name,
        title=capsule.title,
        unlock_at=capsule.scheduled_unlock_at,
        receiver_email=capsule.receiver_email,
        receiver_phone=capsule.receiver_phone,
    )
    if message is None:
        return
    if message.channel == "email":
        send_email(
            to=message.to,
            subject=message.subject,
            body=message.body,
            kind=INVITATION_KIND,
            critical=False,
        )
    else:
        send_sms(to=message.to, body=message.body, kind=INVITATION_KIND, critical=False)


def capsule_invite_pending(capsule: Capsule) -> None:
    """Invite the receiver of `capsule` if it has no account yet (on sealing, and again
    when the capsule becomes READY)."""
    if capsule.receiver_id is None and (capsule.receiver_email or capsule.receiver_phone):
        _invite(capsule)


def capsules_claim_pending(*, user: User) -> int:
    """Attach capsules sent to `user`'s verified email or phone before they had an account.

    Called where the receiver first reads their inbox, so sign-up needs no hook."""
    pending = pending_claims(user=user)
    # A read path calls this: only take a write lock when there is something to attach.
    if not pending.exists():
        return 0
    email, phone = verified_addresses(user)
    with transaction.atomic():
        senders = set(pending.values_list("sender_id", flat=True))
        claimed = pending.update(receiver=user, updated_at=_now())
        boxcache.boxes_changed([user.pk, *senders])
        entries = Q(pk__in=[])
        if email:
            entries |= Q(email=email)
        if phone:
            entries |= Q(phone=phone)
        Recipient.objects.filter(entries, user__isnull=True).update(user=user)
        return claimed
