"""Reads of the capsules module, with the visibility rules applied."""

from __future__ import annotations

import uuid
from base64 import urlsafe_b64decode, urlsafe_b64encode
from datetime import datetime
from typing import Any

from django.conf import settings
from django.db.models import Count, Q, QuerySet
from django.http import HttpRequest
from django.utils import timezone
from django.utils.translation import gettext as _

from tessera.capsules.models import Capsule, CapsuleState, Draft, Recipient
from tessera.core.errors import InvalidInputError, NotFoundError
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


_CAPSULE_FIELDS = tuple(field.name for field in Capsule._meta.concrete_fields)


def capsule_list(*, user: Any, box: str, state: str | None = None) -> QuerySet[Capsule]:
    now = timezone.now()
    if box == "inbox":
        capsules = Capsule.objects.filter(receiver=user).exclude(state=CapsuleState.DRAFT)
    else:
        capsules = Capsule.objects.filter(sender=user)
    if state:
        capsules = capsules.filter(_state_q(state, now))
    # Of the two people only id and name are shown: loading every user column (password
    # hash, a dozen timestamps) was most of a list page's database-to-Python cost.
    return (
        capsules.select_related("sender", "receiver")
        .only(*_CAPSULE_FIELDS, "sender__id", "sender__name", "receiver__id", "receiver__name")
        .order_by("-created_at", "-id")
    )


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
        "receiver_phone": capsule.receiver_phone if is_sender else None,
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


# A box's `count` is exact up to this many capsules; past it the page says `countExact:
# false` and counts this many, so no page ever counts a 100,000-capsule inbox row by row.
COUNT_CAP = 1000


def _cursor_encode(capsule: Capsule) -> str:
    position = f"{capsule.created_at.isoformat()}|{capsule.pk}"
    return urlsafe_b64encode(position.encode()).decode().rstrip("=")


def _cursor_decode(cursor: str) -> tuple[datetime, uuid.UUID]:
    try:
        raw = urlsafe_b64decode(cursor + "=" * (-len(cursor) % 4)).decode()
        stamp, _sep, capsule_id = raw.partition("|")
        created_at = datetime.fromisoformat(stamp)
        position = (created_at, uuid.UUID(capsule_id))
        if timezone.is_naive(created_at):
            raise ValueError(stamp)  # noqa: TRY301 - one refusal for every malformed cursor
    except ValueError:
        raise InvalidInputError(
            _("The cursor is not valid."),
            fields={"cursor": _("Use the nextCursor of a previous page.")},
        ) from None
    return position


def capsule_page(
    *,
    user: Any,
    box: str,
    state: str | None,
    page: int,
    page_size: int | None,
    cursor: str | None = None,
    request: HttpRequest | None = None,
) -> dict[str, Any]:
    """One page of the inbox or outbox, each capsule shaped for `user` (no media in lists).

    By page number (`page`, an OFFSET) or, for deep pages, by `cursor` (the `nextCursor` of
    the previous page: a keyset position on the box's index, as cheap at the 5,000th page as
    at the first). `count` is exact up to COUNT_CAP capsules."""
    size = min(page_size or settings.API_PAGE_SIZE_DEFAULT, settings.API_PAGE_SIZE_MAX)
    capsules = capsule_list(user=user, box=box, state=state)
    offset = 0
    if cursor:
        if page != 1:
            raise InvalidInputError(
                _("Give either page or cursor, not both."),
                fields={"cursor": _("Not allowed together with page.")},
            )
        created_at, last_id = _cursor_decode(cursor)
        # `created_at <= x` bounds the index range scan; the OR only settles ties.
        window = capsules.filter(
            Q(created_at__lte=created_at) & (Q(created_at__lt=created_at) | Q(id__lt=last_id))
        )
        rows = list(window[: size + 1])
    else:
        offset = (page - 1) * size
        rows = list(capsules[offset : offset + size + 1])
    has_more = len(rows) > size
    rows = rows[:size]
    if not cursor and not has_more and (rows or offset == 0):
        count, exact = offset + len(rows), True  # the last page: the count is known
    else:
        counted = capsules.order_by().values("pk")[: COUNT_CAP + 1].count()
        count, exact = min(counted, COUNT_CAP), counted <= COUNT_CAP
    return {
        "items": [capsule_view(c, viewer=user, request=request, with_media=False) for c in rows],
        "count": count,
        "count_exact": exact,
        "page": None if cursor else page,
        "page_size": size,
        "pages": max(1, -(-count // size)),
        "next_cursor": _cursor_encode(rows[-1]) if has_more else None,
    }
