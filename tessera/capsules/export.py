"""The capsules section of the account export (tessera.core.exports)."""

from __future__ import annotations

from typing import Any

from django.db.models import Prefetch

from tessera.capsules.models import Capsule, CapsuleMedia, CapsuleState
from tessera.capsules.schemas import CapsuleOut, DraftOut, RecipientOut
from tessera.capsules.selectors import capsule_view, draft_list, pending_claims, recipient_list


def _capsules(queryset: Any, *, user: Any) -> list[dict[str, Any]]:
    media = Prefetch("media", queryset=CapsuleMedia.objects.select_related("file"))
    return [
        CapsuleOut.model_validate(capsule_view(capsule, viewer=user)).model_dump(
            mode="json", by_alias=True
        )
        for capsule in queryset.select_related("sender", "receiver")
        .prefetch_related(media)
        .order_by("-created_at", "-id")
    ]


def account_export(*, user: Any) -> dict[str, Any]:
    """Capsules sent (every state, in full) and received (as the receiver may see them now:
    the body and media only once readable, as the API shows them), drafts and the address
    book. Received includes capsules waiting for the person's verified email or number."""
    received = (Capsule.objects.filter(receiver=user) | pending_claims(user=user)).exclude(
        state=CapsuleState.DRAFT
    )
    return {
        "sent": _capsules(Capsule.objects.filter(sender=user), user=user),
        "received": _capsules(received, user=user),
        "drafts": [
            DraftOut(
                id=draft.pk,
                title=draft.title,
                body=draft.body,
                theme=draft.theme,
                recipient_id=draft.recipient_id,
                created_at=draft.created_at,
                updated_at=draft.updated_at,
            ).model_dump(mode="json", by_alias=True)
            for draft in draft_list(owner=user)
        ],
        "recipients": [
            RecipientOut(
                id=recipient.pk,
                name=recipient.name,
                email=recipient.email,
                phone=recipient.phone,
                user_id=recipient.user_id,
                created_at=recipient.created_at,
            ).model_dump(mode="json", by_alias=True)
            for recipient in recipient_list(owner=user)
        ],
    }
