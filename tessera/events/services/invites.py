"""Invitations: to an account, or to an email address or phone number without one (claimed
once the person signs up and verifies it, as capsule invitations are)."""

from __future__ import annotations

from datetime import timedelta
from typing import Any

from django.conf import settings
from django.db import IntegrityError, transaction
from django.db.models import Q
from django.utils.translation import gettext as _
from django.utils.translation import override

from tessera.accounts.models import User
from tessera.accounts.selectors import user_get, user_get_by_email, user_get_by_verified_phone
from tessera.core.errors import NotFoundError
from tessera.events import statemachine as sm
from tessera.events.errors import InviteeInvalidError, InviteExistsError, OwnEventError, StateError
from tessera.events.models import Invite, JoinRequest
from tessera.events.services.common import (
    email_checked,
    event_hosted,
    event_locked,
    now,
    phone_checked,
    require_event_state,
)
from tessera.events.services.notify import event_facts, tell
from tessera.events.services.requests import _admitted_or_waitlisted
from tessera.notifications.services import send_email, send_sms

INVITATION_KIND = "events.invitation"


def _invitee(*, user_id: Any, email: str | None, phone: str | None) -> tuple[Any, str, str]:
    given = [v for v in (user_id, email, phone) if v]
    if len(given) != 1:
        raise InviteeInvalidError(fields={"userId": _("Exactly one invitee is required.")})
    if user_id:
        found = user_get(user_id=user_id)
        if found is None:
            raise InviteeInvalidError(_("No such user."), fields={"userId": _("No such user.")})
        return found, "", ""
    if email:
        address = email_checked(email, field="email")
        return user_get_by_email(email=address), address, ""
    number = phone_checked(phone or "", field="phone")
    return user_get_by_verified_phone(phone_number=number), "", number


def _invite_outsider(invite: Invite) -> None:
    """Invite someone without an account, in the host's language: by email, else by SMS."""
    facts = {**event_facts(invite.event), "name": invite.inviter.name or _("Someone")}
    facts["link"] = f"{settings.AUTH_FRONTEND_URL}/signup"
    with override(invite.inviter.language or "en"):
        if invite.invitee_email:
            send_email(
                to=invite.invitee_email,
                subject=_("%(name)s invited you to %(title)s") % facts,
                body=_(
                    "%(name)s invited you to “%(title)s” on %(when)s. Create a Tessera account "
                    "with this email address to answer:\n%(link)s\n"
                )
                % facts,
                kind=INVITATION_KIND,
                critical=False,
            )
        else:
            send_sms(
                to=invite.invitee_phone,
                body=_(
                    "%(name)s invited you to “%(title)s” on %(when)s. Sign up on Tessera with "
                    "this number to answer: %(link)s"
                )
                % facts,
                kind=INVITATION_KIND,
                critical=False,
            )


def invite_create(
    *,
    host: Any,
    event_id: Any,
    user_id: Any = None,
    email: str | None = None,
    phone: str | None = None,
) -> Invite:
    at = now()
    user, address, number = _invitee(user_id=user_id, email=email, phone=phone)
    with transaction.atomic():
        event = event_hosted(host=host, event_id=event_id)
        require_event_state(event, sm.PUBLISHED, sm.POSTPONED)
        if user is not None and user.pk == host.pk:
            raise OwnEventError
        ttl = timedelta(days=settings.EVENTS_INVITE_TTL_DAYS)
        invite = Invite(
            event=event,
            inviter=host,
            invitee=user,
            invitee_email="" if user else address,
            invitee_phone="" if user else number,
            expires_at=min(at + ttl, event.starts_at),
        )
        try:
            with transaction.atomic():
                invite.save()
        except IntegrityError:
            raise InviteExistsError from None
        if user is not None:
            tell(
                users=[user],
                kind="events.invite",
                event=event,
                extra={"name": host.name or _("Someone")},
                data={"inviteId": str(invite.pk)},
            )
        else:
            _invite_outsider(invite)
        return invite


def _my_invite(*, user: User, invite_id: Any) -> Invite:
    invites_claim_pending(user=user)
    invite = Invite.objects.filter(pk=invite_id, invitee=user).first()
    if invite is None:
        raise NotFoundError(_("The invitation was not found."))
    return invite


def invite_accept(*, user: User, invite_id: Any) -> Invite:
    """Accepting is joining: the place is granted at once (or the waitlist, when full),
    whether or not the event asks for approval."""
    at = now()
    with transaction.atomic():
        invite = _my_invite(user=user, invite_id=invite_id)
        event = event_locked(event_id=invite.event_id)
        invite = Invite.objects.select_for_update().get(pk=invite.pk)
        if not sm.INVITE.allows("accept", str(invite.status)) or invite.expires_at <= at:
            state = sm.EXPIRED if invite.status == sm.PENDING else str(invite.status)
            raise StateError(entity="invite", state=state)
        require_event_state(event, sm.PUBLISHED)
        invite.accept(now=at)
        invite.save()
        request = (
            JoinRequest.objects.select_for_update()
            .filter(event=event, user=user, status__in=[sm.PENDING, sm.ACCEPTED])
            .first()
        )
        if request is None:
            request = JoinRequest.objects.create(event=event, user=user, invite=invite)
        if request.status == sm.PENDING and request.waitlisted_at is None:
            _admitted_or_waitlisted(event=event, join_request=request, at=at)
        return invite


def invite_decline(*, user: User, invite_id: Any) -> Invite:
    at = now()
    with transaction.atomic():
        invite = _my_invite(user=user, invite_id=invite_id)
        invite = Invite.objects.select_for_update().get(pk=invite.pk)
        if not sm.INVITE.allows("decline", str(invite.status)):
            raise StateError(entity="invite", state=str(invite.status))
        invite.decline(now=at)
        invite.save()
        return invite


def _verified(user: User) -> tuple[str, str]:
    email = (user.email or "").lower() if user.email_verified_at else ""
    phone = user.phone_number or "" if user.phone_verified_at else ""
    return email, phone


def invites_claim_pending(*, user: User) -> int:
    """Attach invitations sent to this person's verified email or phone before they had an
    account. Called when they sign up or verify an address (`signals.py`), and again when
    they list their invitations."""
    email, phone = _verified(user)
    if not email and not phone:
        return 0
    match = Q(pk__in=[])
    if email:
        match |= Q(invitee_email__iexact=email)
    if phone:
        match |= Q(invitee_phone=phone)
    pending = Invite.objects.filter(match, invitee__isnull=True, status=sm.PENDING)
    if not pending.exists():
        return 0
    claimed = 0
    with transaction.atomic():
        for invite in pending.select_for_update(skip_locked=True).select_related(
            "event", "inviter"
        ):
            if (
                invite.event.host_id == user.pk
                or Invite.objects.filter(
                    event=invite.event, invitee=user, status=sm.PENDING
                ).exists()
            ):
                continue  # already invited by account: keep that one
            invite.invitee = user
            invite.save(update_fields=["invitee", "updated_at"])
            tell(
                users=[user],
                kind="events.invite",
                event=invite.event,
                extra={"name": invite.inviter.name or _("Someone")},
                data={"inviteId": str(invite.pk)},
            )
            claimed += 1
    return claimed
