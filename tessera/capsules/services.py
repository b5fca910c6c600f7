"""Every write of the capsules module: capsules, drafts, recipients and the unlock sweep."""

from __future__ import annotations

from collections.abc import Sequence
from dataclasses import dataclass
from datetime import UTC, datetime, timedelta
from typing import Any

from django.conf import settings
from django.core.exceptions import ValidationError
from django.core.validators import validate_email
from django.db import connection, transaction
from django.db.models import Q
from django.utils import timezone
from django.utils.translation import gettext as _
from django_fsm import can_proceed

from tessera.accounts.selectors import user_get, user_get_by_email
from tessera.capsules.errors import (
    CapsuleStateError,
    MediaInvalidError,
    ReceiverInvalidError,
    ReplyNotAllowedError,
    UnlockTimeInvalidError,
    UnlockTimeNaiveError,
)
from tessera.capsules.models import (
    MAX_MEDIA,
    Capsule,
    CapsuleEvent,
    CapsuleMedia,
    CapsuleState,
    Draft,
    Recipient,
)
from tessera.core.errors import InvalidInputError, NotFoundError
from tessera.core.jobs import enqueue_on_commit
from tessera.files.purposes import Purpose
from tessera.files.selectors import file_get_attachable
from tessera.notifications.services import notify, send_email

MIN_AHEAD = timedelta(minutes=1)
MAX_AHEAD = timedelta(days=5 * 365 + 1)
UNSET: Any = object()


@dataclass(frozen=True)
class Receiver:
    user: Any
    email: str
    phone: str


def _email_checked(email: str, *, field: str) -> str:
    email = email.strip().lower()
    try:
        validate_email(email)
    except ValidationError:
        raise InvalidInputError(
            _("The email address is not valid."), fields={field: _("Not a valid email address.")}
        ) from None
    return email


def _now() -> datetime:
    return timezone.now()


def _locked_capsule(*, capsule_id: Any) -> Capsule:
    capsule = (
        Capsule.objects.select_for_update(of=("self",))
        .select_related("sender", "receiver")
        .filter(pk=capsule_id)
        .first()
    )
    if capsule is None:
        raise NotFoundError
    return capsule


def _sender_capsule(*, sender: Any, capsule_id: Any) -> Capsule:
    capsule = _locked_capsule(capsule_id=capsule_id)
    if capsule.sender_id != sender.pk:
        raise NotFoundError
    return capsule


def _require_draft(capsule: Capsule) -> None:
    if capsule.state != CapsuleState.DRAFT:
        raise CapsuleStateError(state=str(capsule.state))


def _recipient_for_owner(*, owner: Any, recipient_id: Any) -> Recipient:
    recipient = Recipient.objects.filter(pk=recipient_id, owner=owner).first()
    if recipient is None:
        raise NotFoundError(_("The recipient was not found."))
    return recipient


def receiver_resolve(
    *,
    sender: Any,
    receiver_id: Any = None,
    receiver_email: str | None = None,
    recipient_id: Any = None,
) -> Receiver:
    """Who a capsule goes to: an account by id, an address-book entry, or an email (an
    account with that email, else an invitation)."""
    given = [v for v in (receiver_id, receiver_email, recipient_id) if v]
    if len(given) != 1:
        raise InvalidInputError(
            _("Give exactly one of receiverId, receiverEmail or recipientId."),
            fields={"receiverId": _("Exactly one receiver is required.")},
        )
    if receiver_id:
        found = user_get(user_id=receiver_id)
        if found is None:
            raise ReceiverInvalidError(fields={"receiverId": _("No such user.")})
        return Receiver(user=found, email="", phone="")
    if recipient_id:
        recipient = _recipient_for_owner(owner=sender, recipient_id=recipient_id)
        if recipient.user_id is not None:
            return Receiver(user=recipient.user, email="", phone="")
        if recipient.email:
            found = user_get_by_email(email=recipient.email)
            if found is not None:
                return Receiver(user=found, email="", phone="")
        return Receiver(user=None, email=recipient.email, phone=recipient.phone)
    email = _email_checked(receiver_email or "", field="receiverEmail")
    found = user_get_by_email(email=email)
    if found is not None:
        return Receiver(user=found, email="", phone="")
    return Receiver(user=None, email=email, phone="")


def _media_files(*, owner: Any, media_ids: Sequence[Any]) -> list[Any]:
    unique = list(dict.fromkeys(media_ids))
    if len(unique) > MAX_MEDIA:
        raise MediaInvalidError(fields={"mediaIds": _("At most 6 files.")})
    return [
        file_get_attachable(owner=owner, file_id=file_id, purpose=Purpose.CAPSULE_MEDIA)
        for file_id in unique
    ]


def _media_set(capsule: Capsule, files: list[Any]) -> None:
    CapsuleMedia.objects.filter(capsule=capsule).delete()
    CapsuleMedia.objects.bulk_create(
        [CapsuleMedia(capsule=capsule, file=f, position=i) for i, f in enumerate(files)]
    )


def capsule_create(
    *,
    sender: Any,
    title: str,
    body: str = "",
    theme: str = "",
    allow_early_view: bool = False,
    allow_receiver_reply: bool = False,
    receiver_id: Any = None,
    receiver_email: str | None = None,
    recipient_id: Any = None,
    media_ids: Sequence[Any] = (),
) -> Capsule:
    """A new capsule in DRAFT, editable by its sender until sealed."""
    with transaction.atomic():
        receiver = receiver_resolve(
            sender=sender,
            receiver_id=receiver_id,
            receiver_email=receiver_email,
            recipient_id=recipient_id,
        )
        files = _media_files(owner=sender, media_ids=media_ids)
        capsule = Capsule(
            sender=sender,
            receiver=receiver.user,
            receiver_email=receiver.email,
            receiver_phone=receiver.phone,
            title=title,
            body=body,
            theme=theme,
            allow_early_view=allow_early_view,
            allow_receiver_reply=allow_receiver_reply,
        )
        capsule.full_clean(exclude=["sender", "receiver"])
        capsule.save()
        _media_set(capsule, files)
        return capsule


def capsule_update(
    *,
    sender: Any,
    capsule_id: Any,
    title: Any = UNSET,
    body: Any = UNSET,
    theme: Any = UNSET,
    allow_early_view: Any = UNSET,
    allow_receiver_reply: Any = UNSET,
    media_ids: Any = UNSET,
) -> Capsule:
    """Edit a DRAFT capsule (sender only); a sealed one is a 409 naming its state."""
    with transaction.atomic():
        capsule = _sender_capsule(sender=sender, capsule_id=capsule_id)
        _require_draft(capsule)
        changes = {
            "title": title,
            "body": body,
            "theme": theme,
            "allow_early_view": allow_early_view,
            "allow_receiver_reply": allow_receiver_reply,
        }
        for name, value in changes.items():
            if value is not UNSET:
                setattr(capsule, name, value)
        capsule.full_clean(exclude=["sender", "receiver"])
        capsule.save()
        if media_ids is not UNSET:
            _media_set(capsule, _media_files(owner=sender, media_ids=media_ids))
        return capsule


def capsule_delete(*, sender: Any, capsule_id: Any) -> None:
    with transaction.atomic():
        capsule = _sender_capsule(sender=sender, capsule_id=capsule_id)
        _require_draft(capsule)
        capsule.delete()


def unlock_time_validate(*, unlock_at: datetime, now: datetime) -> None:
    if timezone.is_naive(unlock_at):
        raise UnlockTimeNaiveError(fields={"scheduledUnlockAt": _("A time zone is required.")})
    if unlock_at <= now + MIN_AHEAD or unlock_at > now + MAX_AHEAD:
        raise UnlockTimeInvalidError(
            fields={"scheduledUnlockAt": _("Must be more than 1 minute and at most 5 years ahead.")}
        )


def capsule_seal(*, sender: Any, capsule_id: Any, unlock_at: datetime) -> Capsule:
    """DRAFT → SEALED with an unlock time; a receiver without an account is invited by
    email once the seal commits."""
    now = _now()
    with transaction.atomic():
        capsule = _sender_capsule(sender=sender, capsule_id=capsule_id)
        if not can_proceed(capsule.seal):
            raise CapsuleStateError(state=str(capsule.state))
        unlock_time_validate(unlock_at=unlock_at, now=now)
        capsule.seal(unlock_at=unlock_at.astimezone(UTC), now=now)
        capsule.save()
        if capsule.receiver_id is None and capsule.receiver_email:
            _invite(capsule)
        return capsule


def _invite(capsule: Capsule) -> None:
    sender_name = capsule.sender.name or _("Someone")
    send_email(
        to=capsule.receiver_email,
        subject=_("%(name)s sent you a time capsule on Tessera") % {"name": sender_name},
        body=_(
            "%(name)s sealed a time capsule for you: “%(title)s”. It unlocks on %(when)s "
            "(UTC). Create a Tessera account with this email address to receive it:\n"
            "%(link)s\n"
        )
        % {
            "name": sender_name,
            "title": capsule.title,
            "when": capsule.scheduled_unlock_at.strftime("%Y-%m-%d %H:%M")
            if capsule.scheduled_unlock_at
            else "",
            "link": f"{settings.AUTH_FRONTEND_URL}/signup",
        },
        kind="capsules.invitation",
        critical=False,
    )


def _catch_up(capsule: Capsule, now: datetime) -> None:
    """Move a due capsule the sweep has not reached yet, recording its event once."""
    if capsule.effective_state(now) == CapsuleState.READY and can_proceed(capsule.unlock):
        capsule.unlock()
        capsule.save(update_fields=["state", "updated_at"])
        _, created = CapsuleEvent.objects.get_or_create(
            capsule=capsule, kind=CapsuleEvent.Kind.READY, defaults={"created_at": now}
        )
        if created:
            enqueue_on_commit(_notify_task(), batch_size=100)


def _notify_task() -> Any:
    from tessera.capsules.tasks import capsule_notify_events

    return capsule_notify_events


def capsule_open(*, user: Any, capsule_id: Any) -> Capsule:
    """READY → OPENED, by the receiver only (the sender gets a 409, strangers a 404)."""
    now = _now()
    with transaction.atomic():
        capsule = _locked_capsule(capsule_id=capsule_id)
        is_receiver = capsule.receiver_id == user.pk
        is_sender = capsule.sender_id == user.pk
        if not is_receiver and not is_sender:
            raise NotFoundError
        if is_receiver and not is_sender and capsule.state == CapsuleState.DRAFT:
            raise NotFoundError
        if not is_receiver:
            raise CapsuleStateError(
                state=capsule.effective_state(now),
                message=_("Only the receiver can open a capsule."),
            )
        _catch_up(capsule, now)
        if not can_proceed(capsule.open):
            raise CapsuleStateError(state=capsule.effective_state(now))
        capsule.open(now=now)
        capsule.save()
        return capsule


def capsule_reply(*, user: Any, capsule_id: Any, body: str) -> Capsule:
    """The receiver's one reply, when the sender allowed it, once the capsule is open."""
    now = _now()
    with transaction.atomic():
        capsule = _locked_capsule(capsule_id=capsule_id)
        if capsule.receiver_id != user.pk or capsule.state == CapsuleState.DRAFT:
            raise NotFoundError
        if capsule.state != CapsuleState.OPENED:
            raise CapsuleStateError(state=capsule.effective_state(now))
        if not capsule.allow_receiver_reply or capsule.replied_at is not None:
            raise ReplyNotAllowedError
        if not body.strip():
            raise InvalidInputError(fields={"body": _("Required.")})
        capsule.reply_body = body
        capsule.replied_at = now
        capsule.save(update_fields=["reply_body", "replied_at", "updated_at"])
        notify(
            user=capsule.sender,
            kind="capsules.reply",
            context={"title": capsule.title, "name": user.name},
            channels=["in_app"],
            data={"capsuleId": str(capsule.pk)},
        )
        return capsule


def capsules_claim_pending(*, user: Any) -> int:
    """Attach capsules sent to `user`'s verified email or phone before they had an account.

    Called where the receiver first reads their inbox, so sign-up needs no hook: an
    address counts only once verified (a phone account is verified by its OTP)."""
    email = (getattr(user, "email", None) or "").lower()
    verified_email = email if email and getattr(user, "email_verified_at", None) else ""
    phone = getattr(user, "phone_number", None) or ""
    match = Q(pk__in=[])
    if verified_email:
        match |= Q(receiver_email=verified_email)
    if phone:
        match |= Q(receiver_phone=phone)
    pending = Capsule.objects.filter(match, receiver__isnull=True)
    # A read path calls this: only take a write lock when there is something to attach.
    if not pending.exists():
        return 0
    with transaction.atomic():
        claimed = pending.update(receiver=user, updated_at=_now())
        if verified_email:
            Recipient.objects.filter(user__isnull=True, email=verified_email).update(user=user)
        return claimed


# --- the unlock sweep ---------------------------------------------------------------------


@dataclass(frozen=True)
class SweepResult:
    readied: int
    unfolded: int


def _sql_pg_ready() -> str:
    return """
        WITH moved AS (
            UPDATE capsules_capsule AS c SET state = 'ready', updated_at = %(now)s
            WHERE c.id IN (
                SELECT id FROM capsules_capsule
                WHERE state IN ('sealed', 'unfolding') AND scheduled_unlock_at <= %(now)s
                LIMIT %(batch)s
            ) AND c.state IN ('sealed', 'unfolding')
            RETURNING c.id
        )
        INSERT INTO capsules_capsuleevent (capsule_id, kind, created_at)
        SELECT id, 'ready', %(now)s FROM moved
        ON CONFLICT (capsule_id, kind) DO NOTHING
    """


def _sql_pg_unfold() -> str:
    return """
        WITH moved AS (
            UPDATE capsules_capsule AS c SET state = 'unfolding', updated_at = %(now)s
            WHERE c.id IN (
                SELECT id FROM capsules_capsule
                WHERE state = 'sealed' AND unfolds_at <= %(now)s
                    AND scheduled_unlock_at > %(now)s
                LIMIT %(batch)s
            ) AND c.state = 'sealed'
            RETURNING c.id
        )
        INSERT INTO capsules_capsuleevent (capsule_id, kind, created_at)
        SELECT id, 'unfolding', %(now)s FROM moved
        ON CONFLICT (capsule_id, kind) DO NOTHING
    """


# One batch per phase at a time across all workers: a sweep that finds its phase's lock
# taken stops that phase, because the holder carries on until nothing is due (so rows are
# never locked twice, no SELECT … FOR UPDATE). One key per phase: a holder of one phase
# must never make the other phase's holder stop.
_READY_LOCK_KEY = 0x7E55_CA95
_UNFOLD_LOCK_KEY = 0x7E55_CA96


def _sweep_pg(sql: str, *, lock_key: int, now: datetime, batch_size: int) -> int:
    total = 0
    while True:
        with transaction.atomic(), connection.cursor() as cursor:
            cursor.execute("SELECT pg_try_advisory_xact_lock(%s)", [lock_key])
            if not cursor.fetchone()[0]:
                return total
            cursor.execute(sql, {"now": now, "batch": batch_size})
            moved = cursor.rowcount
        total += moved
        if moved == 0:
            return total


def _sweep_sqlite(*, now: datetime) -> SweepResult:
    # SQLite runs write transactions one at a time (IMMEDIATE), so two statements in one
    # transaction are as safe as PostgreSQL's UPDATE … RETURNING.
    stamp = connection.ops.adapt_datetimefield_value(now)
    with transaction.atomic(), connection.cursor() as cursor:
        cursor.execute(
            "INSERT INTO capsules_capsuleevent (capsule_id, kind, created_at) "
            "SELECT id, 'ready', %s FROM capsules_capsule "
            "WHERE state IN ('sealed', 'unfolding') AND scheduled_unlock_at <= %s "
            "ON CONFLICT (capsule_id, kind) DO NOTHING",
            [stamp, stamp],
        )
        cursor.execute(
            "UPDATE capsules_capsule SET state = 'ready', updated_at = %s "
            "WHERE state IN ('sealed', 'unfolding') AND scheduled_unlock_at <= %s",
            [stamp, stamp],
        )
        readied = cursor.rowcount
        cursor.execute(
            "INSERT INTO capsules_capsuleevent (capsule_id, kind, created_at) "
            "SELECT id, 'unfolding', %s FROM capsules_capsule "
            "WHERE state = 'sealed' AND unfolds_at <= %s AND scheduled_unlock_at > %s "
            "ON CONFLICT (capsule_id, kind) DO NOTHING",
            [stamp, stamp, stamp],
        )
        cursor.execute(
            "UPDATE capsules_capsule SET state = 'unfolding', updated_at = %s "
            "WHERE state = 'sealed' AND unfolds_at <= %s AND scheduled_unlock_at > %s",
            [stamp, stamp, stamp],
        )
        unfolded = cursor.rowcount
    return SweepResult(readied=readied, unfolded=unfolded)


def capsule_unlock_sweep(
    *, now: datetime | None = None, batch_size: int = 100_000, notify_after: bool = True
) -> SweepResult:
    """Move every due capsule forward with set-based UPDATEs guarded by the current state,
    writing one `CapsuleEvent` per move in the same statement (PostgreSQL) or transaction
    (SQLite). Concurrent sweeps take turns per batch (a transaction-level advisory lock;
    the unique event row is the last guard); a sweep killed half-way loses only its
    uncommitted batch, which the next sweep redoes."""
    now = now or _now()
    if connection.vendor == "postgresql":
        result = SweepResult(
            readied=_sweep_pg(
                _sql_pg_ready(), lock_key=_READY_LOCK_KEY, now=now, batch_size=batch_size
            ),
            unfolded=_sweep_pg(
                _sql_pg_unfold(), lock_key=_UNFOLD_LOCK_KEY, now=now, batch_size=batch_size
            ),
        )
    else:
        result = _sweep_sqlite(now=now)
    # Also when nothing moved: events a dead worker left unnotified get picked up again.
    if notify_after and (
        result.readied
        or result.unfolded
        or CapsuleEvent.objects.filter(notified_at__isnull=True).exists()
    ):
        _notify_task().delay(batch_size=500)
    return result


def capsule_notify_events(*, batch_size: int = 500, limit: int | None = None) -> int:
    """Notify each pending event's receiver once: the notification and `notified_at` are
    written in one transaction over rows locked with SKIP LOCKED, so parallel or repeated
    runs never notify twice. Returns how many events were handled."""
    handled = 0
    while limit is None or handled < limit:
        with transaction.atomic():
            events = list(
                CapsuleEvent.objects.select_for_update(skip_locked=True, of=("self",))
                .filter(notified_at__isnull=True)
                .select_related("capsule", "capsule__sender", "capsule__receiver")
                .order_by("id")[:batch_size]
            )
            if not events:
                return handled
            for event in events:
                _notify_event(event)
            CapsuleEvent.objects.filter(pk__in=[e.pk for e in events]).update(notified_at=_now())
            handled += len(events)
    return handled


def _notify_event(event: CapsuleEvent) -> None:
    capsule = event.capsule
    context = {
        "title": capsule.title,
        "name": capsule.sender.name or capsule.sender.email or "",
        "unlock_at": capsule.scheduled_unlock_at.strftime("%Y-%m-%d %H:%M UTC")
        if capsule.scheduled_unlock_at
        else "",
    }
    if capsule.receiver is not None:
        notify(
            user=capsule.receiver,
            kind=f"capsules.{event.kind}",
            context=context,
            data={"capsuleId": str(capsule.pk)},
        )
    elif capsule.receiver_email and event.kind == CapsuleEvent.Kind.READY:
        _invite(capsule)


# --- drafts and recipients ----------------------------------------------------------------


def draft_create(
    *, owner: Any, title: str = "", body: str = "", theme: str = "", recipient_id: Any = None
) -> Draft:
    with transaction.atomic():
        recipient = (
            _recipient_for_owner(owner=owner, recipient_id=recipient_id) if recipient_id else None
        )
        draft = Draft(owner=owner, title=title, body=body, theme=theme, recipient=recipient)
        draft.full_clean(exclude=["owner", "recipient"])
        draft.save()
        return draft


def _owned_draft(*, owner: Any, draft_id: Any) -> Draft:
    draft = Draft.objects.select_for_update().filter(pk=draft_id, owner=owner).first()
    if draft is None:
        raise NotFoundError(_("The draft was not found."))
    return draft


def draft_update(
    *,
    owner: Any,
    draft_id: Any,
    title: Any = UNSET,
    body: Any = UNSET,
    theme: Any = UNSET,
    recipient_id: Any = UNSET,
) -> Draft:
    """Autosave: change only the fields sent."""
    with transaction.atomic():
        draft = _owned_draft(owner=owner, draft_id=draft_id)
        for name, value in (("title", title), ("body", body), ("theme", theme)):
            if value is not UNSET:
                setattr(draft, name, value)
        if recipient_id is not UNSET:
            draft.recipient = (
                _recipient_for_owner(owner=owner, recipient_id=recipient_id)
                if recipient_id
                else None
            )
        draft.full_clean(exclude=["owner", "recipient"])
        draft.save()
        return draft


def draft_delete(*, owner: Any, draft_id: Any) -> None:
    with transaction.atomic():
        _owned_draft(owner=owner, draft_id=draft_id).delete()


def draft_send(
    *,
    owner: Any,
    draft_id: Any,
    unlock_at: datetime,
    allow_early_view: bool = False,
    allow_receiver_reply: bool = False,
) -> Capsule:
    """Draft → sealed capsule in one step; the draft is removed. Nothing changes on error."""
    with transaction.atomic():
        draft = _owned_draft(owner=owner, draft_id=draft_id)
        if draft.recipient_id is None:
            raise InvalidInputError(
                _("The draft has no recipient."), fields={"recipientId": _("Required.")}
            )
        if not draft.title.strip():
            raise InvalidInputError(_("The draft has no title."), fields={"title": _("Required.")})
        unlock_time_validate(unlock_at=unlock_at, now=_now())
        capsule = capsule_create(
            sender=owner,
            title=draft.title,
            body=draft.body,
            theme=draft.theme,
            allow_early_view=allow_early_view,
            allow_receiver_reply=allow_receiver_reply,
            recipient_id=draft.recipient_id,
        )
        capsule = capsule_seal(sender=owner, capsule_id=capsule.pk, unlock_at=unlock_at)
        draft.delete()
        return capsule


def recipient_create(*, owner: Any, name: str, email: str = "", phone: str = "") -> Recipient:
    email = _email_checked(email, field="email") if email.strip() else ""
    if not email and not phone:
        raise InvalidInputError(
            _("A recipient needs an email or a phone number."),
            fields={"email": _("Email or phone is required.")},
        )
    with transaction.atomic():
        recipient = Recipient(
            owner=owner,
            name=name,
            email=email,
            phone=phone,
            user=user_get_by_email(email=email) if email else None,
        )
        recipient.full_clean(exclude=["owner", "user"])
        recipient.save()
        return recipient


def _owned_recipient(*, owner: Any, recipient_id: Any) -> Recipient:
    recipient = Recipient.objects.select_for_update().filter(pk=recipient_id, owner=owner).first()
    if recipient is None:
        raise NotFoundError(_("The recipient was not found."))
    return recipient


def recipient_update(
    *, owner: Any, recipient_id: Any, name: Any = UNSET, email: Any = UNSET, phone: Any = UNSET
) -> Recipient:
    with transaction.atomic():
        recipient = _owned_recipient(owner=owner, recipient_id=recipient_id)
        if name is not UNSET:
            recipient.name = name
        if email is not UNSET:
            recipient.email = _email_checked(email, field="email") if email else ""
            recipient.user = user_get_by_email(email=recipient.email) if recipient.email else None
        if phone is not UNSET:
            recipient.phone = phone or ""
        if not recipient.email and not recipient.phone:
            raise InvalidInputError(
                _("A recipient needs an email or a phone number."),
                fields={"email": _("Email or phone is required.")},
            )
        recipient.full_clean(exclude=["owner", "user"])
        recipient.save()
        return recipient


def recipient_delete(*, owner: Any, recipient_id: Any) -> None:
    with transaction.atomic():
        _owned_recipient(owner=owner, recipient_id=recipient_id).delete()
