"""Drafts: autosaved letters, and sending one as a sealed capsule in one step."""

from __future__ import annotations

from datetime import datetime
from typing import Any

from django.db import transaction
from django.utils.translation import gettext as _

from tessera.capsules.models import Capsule, Draft
from tessera.capsules.services.capsules import capsule_create, capsule_seal
from tessera.capsules.services.common import (
    UNSET,
    _now,
    _recipient_for_owner,
    unlock_time_validate,
)
from tessera.core.errors import InvalidInputError, NotFoundError


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
