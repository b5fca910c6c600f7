"""Capsules: write, edit, seal, open and reply."""

from __future__ import annotations

from collections.abc import Sequence
from datetime import UTC, datetime
from typing import Any

from django.db import transaction
from django.utils.translation import gettext as _
from django_fsm import can_proceed

from tessera.accounts.models import User
from tessera.capsules import statemachine
from tessera.capsules.analytics import capsule_opened_capture, capsule_sealed_capture
from tessera.capsules.errors import CapsuleStateError, MediaInvalidError, ReplyNotAllowedError
from tessera.capsules.models import MAX_MEDIA, Capsule, CapsuleEvent, CapsuleMedia, CapsuleState
from tessera.capsules.services.common import (
    UNSET,
    _locked_capsule,
    _notify_task,
    _now,
    _require_draft,
    _sender_capsule,
    unlock_time_validate,
)
from tessera.capsules.services.invitations import capsule_invite_pending
from tessera.capsules.services.recipients import receiver_resolve
from tessera.core.errors import InvalidInputError, NotFoundError
from tessera.core.jobs import enqueue_on_commit
from tessera.files.purposes import Purpose
from tessera.files.selectors import file_get_attachable
from tessera.notifications.services import notify


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
    receiver_phone: str | None = None,
    recipient_id: Any = None,
    media_ids: Sequence[Any] = (),
) -> Capsule:
    """A new capsule in DRAFT, editable by its sender until sealed."""
    with transaction.atomic():
        receiver = receiver_resolve(
            sender=sender,
            receiver_id=receiver_id,
            receiver_email=receiver_email,
            receiver_phone=receiver_phone,
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


def capsule_seal(*, sender: Any, capsule_id: Any, unlock_at: datetime) -> Capsule:
    """DRAFT → SEALED with an unlock time; a receiver without an account is invited (email,
    or SMS to a phone-only receiver) once the seal commits."""
    now = _now()
    with transaction.atomic():
        capsule = _sender_capsule(sender=sender, capsule_id=capsule_id)
        if not can_proceed(capsule.seal):
            raise CapsuleStateError(state=str(capsule.state))
        unlock_time_validate(unlock_at=unlock_at, now=now)
        capsule.seal(unlock_at=unlock_at.astimezone(UTC), now=now)
        capsule.save()
        capsule_invite_pending(capsule)
        capsule_sealed_capture(capsule, now=now)
        return capsule


def _catch_up(capsule: Capsule, now: datetime) -> None:
    """Make the clock move the sweep has not made yet (a due capsule), recording its event
    once, as the sweep would."""
    due = statemachine.due_transition(str(capsule.state), capsule.clock_times(), now)
    if due is None:
        return
    getattr(capsule, due.name)()
    capsule.save(update_fields=["state", "updated_at"])
    _, created = CapsuleEvent.objects.get_or_create(
        capsule=capsule, kind=due.target, defaults={"created_at": now}
    )
    if created:
        enqueue_on_commit(_notify_task(), batch_size=100)


def capsule_open(*, user: User, capsule_id: Any) -> Capsule:
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
        capsule_opened_capture(capsule, now=now)
        return capsule


def capsule_reply(*, user: User, capsule_id: Any, body: str) -> Capsule:
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
