"""In-app notifications and channel preferences of the signed-in user."""

# No `from __future__ import annotations` here: Ninja builds the `Query[...]` parameter model
# from the evaluated annotation.
from typing import Any
from uuid import UUID

from django.http import HttpRequest
from ninja import Query
from ninja.pagination import paginate

from tessera.core.api import ApiRouter
from tessera.core.auth import bearer_auth, require_user
from tessera.core.pagination import PagePagination
from tessera.notifications import selectors, services
from tessera.notifications.schemas import (
    NotificationFilter,
    NotificationOut,
    PreferenceOut,
    PreferencesIn,
    ReadAllOut,
)

router = ApiRouter(auth=bearer_auth)


@router.get("", response=list[NotificationOut], summary="Your notifications, newest first")
@paginate(PagePagination)
def notification_list(request: HttpRequest, filters: Query[NotificationFilter]) -> Any:
    return selectors.notification_list(user=require_user(request), unread=filters.unread)


@router.post("/read-all", response=ReadAllOut, summary="Mark all your notifications read")
def notification_read_all(request: HttpRequest) -> ReadAllOut:
    marked = services.notification_mark_all_read(user=require_user(request))
    return ReadAllOut(marked=marked)


@router.get(
    "/preferences",
    response=list[PreferenceOut],
    summary="Your channel preferences per notification kind",
)
def preference_list(request: HttpRequest) -> Any:
    return selectors.preference_list(user=require_user(request))


@router.put(
    "/preferences", response=list[PreferenceOut], summary="Replace your channel preferences"
)
def preference_set(request: HttpRequest, payload: PreferencesIn) -> Any:
    return services.preference_set_all(
        user=require_user(request),
        preferences=[
            services.PreferenceSpec(kind=rule.kind, channel=rule.channel, enabled=rule.enabled)
            for rule in payload.preferences
        ],
    )


@router.post(
    "/{notification_id}/read",
    response=NotificationOut,
    summary="Mark one of your notifications read",
)
def notification_read(request: HttpRequest, notification_id: UUID) -> Any:
    return services.notification_mark_read(
        user=require_user(request), notification_id=notification_id
    )
