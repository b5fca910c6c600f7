"""Capsules, drafts and recipients of the signed-in user."""

# No `from __future__ import annotations` here: Ninja builds the `Query[...]` parameter model
# from the evaluated annotation.
from typing import Any
from uuid import UUID

from django.http import HttpRequest
from ninja import Query
from ninja.pagination import paginate
from ninja.responses import Status

from tessera.capsules import selectors, services
from tessera.capsules.schemas import (
    CapsuleFilter,
    CapsuleIn,
    CapsuleOut,
    CapsulePageOut,
    CapsulePatch,
    DraftIn,
    DraftOut,
    DraftPatch,
    DraftSendIn,
    RecipientIn,
    RecipientOut,
    RecipientPatch,
    ReplyIn,
    SealIn,
)
from tessera.core.api import ApiRouter
from tessera.core.auth import BearerAuth, bearer_auth, cache_prefetched, require_user
from tessera.core.context import client_context
from tessera.core.envelope import success_response_around
from tessera.core.idempotency import idempotent
from tessera.core.pagination import PagePagination

capsules_router = ApiRouter(auth=bearer_auth)
# The list's kept page is read with the session, in one cache round trip (decision 0037).
box_page_auth = BearerAuth(
    prefetch=lambda request, user_id: services.box_page_cache_keys(
        query=request.GET, user_id=user_id
    )
)
drafts_router = ApiRouter(auth=bearer_auth)
recipients_router = ApiRouter(auth=bearer_auth)


def _view(request: HttpRequest, capsule: Any) -> dict[str, Any]:
    return selectors.capsule_view(
        capsule, viewer=require_user(request), client=client_context(request)
    )


@capsules_router.post("", response={201: CapsuleOut}, summary="Write a capsule (a draft)")
@idempotent
def capsule_create(request: HttpRequest, payload: CapsuleIn) -> Any:
    capsule = services.capsule_create(
        sender=require_user(request),
        title=payload.title,
        body=payload.body,
        theme=payload.theme,
        allow_early_view=payload.allow_early_view,
        allow_receiver_reply=payload.allow_receiver_reply,
        receiver_id=payload.receiver_id,
        receiver_email=payload.receiver_email,
        receiver_phone=payload.receiver_phone,
        recipient_id=payload.recipient_id,
        media_ids=payload.media_ids,
    )
    return Status(201, _view(request, capsule))


@capsules_router.get(
    "", response=CapsulePageOut, auth=box_page_auth, summary="Your inbox or outbox"
)
def capsule_list(request: HttpRequest, filters: Query[CapsuleFilter]) -> Any:
    body = services.box_page_body(
        user=require_user(request),
        box=filters.box,
        state=filters.state,
        page=filters.page,
        page_size=filters.page_size,
        cursor=filters.cursor,
        prefetched=cache_prefetched(request),
    )
    # The items arrive as JSON built by the database, already in this schema's shape.
    return success_response_around(body)


@capsules_router.get("/{capsule_id}", response=CapsuleOut, summary="One capsule")
def capsule_get(request: HttpRequest, capsule_id: UUID) -> Any:
    user = require_user(request)
    return _view(request, selectors.capsule_get_for_viewer(user=user, capsule_id=capsule_id))


@capsules_router.patch("/{capsule_id}", response=CapsuleOut, summary="Edit your draft capsule")
def capsule_update(request: HttpRequest, capsule_id: UUID, payload: CapsulePatch) -> Any:
    changes = payload.model_dump(exclude_unset=True)
    capsule = services.capsule_update(
        sender=require_user(request), capsule_id=capsule_id, **changes
    )
    return _view(request, capsule)


@capsules_router.delete("/{capsule_id}", response={204: None}, summary="Delete your draft")
def capsule_delete(request: HttpRequest, capsule_id: UUID) -> Any:
    services.capsule_delete(sender=require_user(request), capsule_id=capsule_id)
    return Status(204, None)


@capsules_router.post("/{capsule_id}/seal", response=CapsuleOut, summary="Seal until a time")
def capsule_seal(request: HttpRequest, capsule_id: UUID, payload: SealIn) -> Any:
    capsule = services.capsule_seal(
        sender=require_user(request),
        capsule_id=capsule_id,
        unlock_at=payload.scheduled_unlock_at,
    )
    return _view(request, capsule)


@capsules_router.post("/{capsule_id}/open", response=CapsuleOut, summary="Open a ready capsule")
def capsule_open(request: HttpRequest, capsule_id: UUID) -> Any:
    capsule = services.capsule_open(user=require_user(request), capsule_id=capsule_id)
    return _view(request, capsule)


@capsules_router.post("/{capsule_id}/reply", response=CapsuleOut, summary="Reply to the sender")
def capsule_reply(request: HttpRequest, capsule_id: UUID, payload: ReplyIn) -> Any:
    capsule = services.capsule_reply(
        user=require_user(request), capsule_id=capsule_id, body=payload.body
    )
    return _view(request, capsule)


@drafts_router.post("", response={201: DraftOut}, summary="Start a draft")
@idempotent
def draft_create(request: HttpRequest, payload: DraftIn) -> Any:
    return Status(201, services.draft_create(owner=require_user(request), **payload.model_dump()))


@drafts_router.get("", response=list[DraftOut], summary="Your drafts, last edited first")
@paginate(PagePagination)
def draft_list(request: HttpRequest) -> Any:
    return selectors.draft_list(owner=require_user(request))


@drafts_router.get("/{draft_id}", response=DraftOut, summary="One of your drafts")
def draft_get(request: HttpRequest, draft_id: UUID) -> Any:
    return selectors.draft_get(owner=require_user(request), draft_id=draft_id)


@drafts_router.patch("/{draft_id}", response=DraftOut, summary="Autosave a draft")
def draft_update(request: HttpRequest, draft_id: UUID, payload: DraftPatch) -> Any:
    return services.draft_update(
        owner=require_user(request), draft_id=draft_id, **payload.model_dump(exclude_unset=True)
    )


@drafts_router.delete("/{draft_id}", response={204: None}, summary="Delete a draft")
def draft_delete(request: HttpRequest, draft_id: UUID) -> Any:
    services.draft_delete(owner=require_user(request), draft_id=draft_id)
    return Status(204, None)


@drafts_router.post(
    "/{draft_id}/send", response={201: CapsuleOut}, summary="Seal a draft into a capsule"
)
@idempotent
def draft_send(request: HttpRequest, draft_id: UUID, payload: DraftSendIn) -> Any:
    capsule = services.draft_send(
        owner=require_user(request),
        draft_id=draft_id,
        unlock_at=payload.scheduled_unlock_at,
        allow_early_view=payload.allow_early_view,
        allow_receiver_reply=payload.allow_receiver_reply,
    )
    return Status(201, _view(request, capsule))


@recipients_router.post("", response={201: RecipientOut}, summary="Add to your address book")
@idempotent
def recipient_create(request: HttpRequest, payload: RecipientIn) -> Any:
    recipient = services.recipient_create(
        owner=require_user(request),
        name=payload.name,
        email=payload.email or "",
        phone=payload.phone or "",
    )
    return Status(201, recipient)


@recipients_router.get("", response=list[RecipientOut], summary="Your address book")
@paginate(PagePagination)
def recipient_list(request: HttpRequest) -> Any:
    return selectors.recipient_list(owner=require_user(request))


@recipients_router.get("/{recipient_id}", response=RecipientOut, summary="One recipient")
def recipient_get(request: HttpRequest, recipient_id: UUID) -> Any:
    return selectors.recipient_get(owner=require_user(request), recipient_id=recipient_id)


@recipients_router.patch("/{recipient_id}", response=RecipientOut, summary="Edit a recipient")
def recipient_update(request: HttpRequest, recipient_id: UUID, payload: RecipientPatch) -> Any:
    return services.recipient_update(
        owner=require_user(request),
        recipient_id=recipient_id,
        **payload.model_dump(exclude_unset=True),
    )


@recipients_router.delete("/{recipient_id}", response={204: None}, summary="Remove a recipient")
def recipient_delete(request: HttpRequest, recipient_id: UUID) -> Any:
    services.recipient_delete(owner=require_user(request), recipient_id=recipient_id)
    return Status(204, None)
