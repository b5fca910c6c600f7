"""Reads of the capsules module, with the visibility rules applied."""

from __future__ import annotations

from datetime import datetime
from typing import Any

from django.conf import settings
from django.db.models import Count, Q, QuerySet
from django.http import HttpRequest
from django.utils import timezone

from tessera.capsules.models import Capsule, CapsuleState, Draft, Recipient
from tessera.core.errors import NotFoundError
from tessera.files.selectors import file_ref


def _state_q(state: str, now: datetime) -> Q:
    """Filter by the state readers see (a due capsule is READY before the sweep runs)."""
    movable = [CapsuleState.SEALED, CapsuleState.UNFOLDING]
    if state == CapsuleState.READY:
        return Q(state=state) | Q(state__in=movable, scheduled_unlock_at__lte=now)
    if state == CapsuleState.UNFOLDING:
        return (Q(state=state) | Q(state=CapsuleState.SEALED, unfolds_at__lte=now)) & Q(
            scheduled_unlock_at__gt=now
        )
    if state == CapsuleState.SEALED:
        return (
            Q(state=state)
            & Q(scheduled_unlock_at__gt=now)
            & (Q(unfolds_at__isnull=True) | Q(unfolds_at__gt=now))
        )
    return Q(state=state)


def capsule_list(*, user: Any, box: str, state: str | None = None) -> QuerySet[Capsule]:
    now = timezone.now()
    if box == "inbox":
        capsules = Capsule.objects.filter(receiver=user).exclude(state=CapsuleState.DRAFT)
    else:
        capsules = Capsule.objects.filter(sender=user)
    if state:
        capsules = capsules.filter(_state_q(state, now))
    return capsules.select_related("sender", "receiver").order_by("-created_at", "-id")


def capsule_get_for_viewer(*, user: Any, capsule_id: Any) -> Capsule:
    """The sender sees their capsule in any state; the receiver once sealed; others 404."""
    capsule = Capsule.objects.select_related("sender", "receiver").filter(pk=capsule_id).first()
    if capsule is None:
        raise NotFoundError
    if capsule.sender_id == user.pk:
        return capsule
    if capsule.receiver_id == user.pk and capsule.state != CapsuleState.DRAFT:
        return capsule
    raise NotFoundError


def content_visible(capsule: Capsule, *, viewer: Any, now: datetime) -> bool:
    if capsule.sender_id == getattr(viewer, "pk", None):
        return True
    state = capsule.effective_state(now)
    if state in (CapsuleState.READY, CapsuleState.OPENED):
        return True
    return state == CapsuleState.UNFOLDING and capsule.allow_early_view


def _person(user: Any) -> dict[str, Any] | None:
    if user is None:
        return None
    return {"id": user.pk, "name": user.name}


def capsule_view(
    capsule: Capsule,
    *,
    viewer: Any,
    request: HttpRequest | None = None,
    with_media: bool = True,
) -> dict[str, Any]:
    """One capsule as `viewer` may see it: body, media and reply only when allowed."""
    now = timezone.now()
    visible = content_visible(capsule, viewer=viewer, now=now)
    is_sender = capsule.sender_id == getattr(viewer, "pk", None)
    media: list[Any] | None = None
    if visible and with_media:
        media = [
            file_ref(item.file, viewer=viewer, request=request, grant_private=True)
            for item in capsule.media.select_related("file").all()
            if item.file is not None
        ]
    return {
        "id": capsule.pk,
        "title": capsule.title,
        "theme": capsule.theme,
        "state": capsule.effective_state(now),
        "sender": _person(capsule.sender),
        "receiver": _person(capsule.receiver),
        "receiver_email": capsule.receiver_email if is_sender else None,
        "allow_early_view": capsule.allow_early_view,
        "allow_receiver_reply": capsule.allow_receiver_reply,
        "body": capsule.body if visible else None,
        "media": media,
        "reply": capsule.reply_body if capsule.replied_at and (visible or is_sender) else None,
        "replied_at": capsule.replied_at,
        "sealed_at": capsule.sealed_at,
        "scheduled_unlock_at": capsule.scheduled_unlock_at,
        "opened_at": capsule.opened_at,
        "created_at": capsule.created_at,
        "updated_at": capsule.updated_at,
    }


def capsule_state_counts() -> dict[str, int]:
    rows = Capsule.objects.values("state").annotate(n=Count("id")).order_by()
    counts = dict.fromkeys(CapsuleState.values, 0)
    counts.update({row["state"]: row["n"] for row in rows})
    return counts


def draft_list(*, owner: Any) -> QuerySet[Draft]:
    return Draft.objects.filter(owner=owner).order_by("-updated_at", "-id")


def draft_get(*, owner: Any, draft_id: Any) -> Draft:
    draft = Draft.objects.filter(owner=owner, pk=draft_id).first()
    if draft is None:
        raise NotFoundError
    return draft


def recipient_list(*, owner: Any) -> QuerySet[Recipient]:
    return Recipient.objects.filter(owner=owner).order_by("name", "id")


def recipient_get(*, owner: Any, recipient_id: Any) -> Recipient:
    recipient = Recipient.objects.filter(owner=owner, pk=recipient_id).first()
    if recipient is None:
        raise NotFoundError
    return recipient


def capsule_page(
    *,
    user: Any,
    box: str,
    state: str | None,
    page: int,
    page_size: int | None,
    request: HttpRequest | None = None,
) -> dict[str, Any]:
    """One page of the inbox or outbox, each capsule shaped for `user` (no media in lists)."""
    size = min(page_size or settings.API_PAGE_SIZE_DEFAULT, settings.API_PAGE_SIZE_MAX)
    capsules = capsule_list(user=user, box=box, state=state)
    count = capsules.count()
    offset = (page - 1) * size
    return {
        "items": [
            capsule_view(c, viewer=user, request=request, with_media=False)
            for c in capsules[offset : offset + size]
        ],
        "count": count,
        "page": page,
        "page_size": size,
        "pages": max(1, -(-count // size)),
    }
