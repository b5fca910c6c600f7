"""Tokens and sessions: refresh, logout, logout everywhere, list and end sessions."""

# No `from __future__ import annotations`: Ninja reads the path parameter types at runtime.
from uuid import UUID

from django.http import HttpRequest
from ninja.responses import Status

from tessera.accounts import selectors, services
from tessera.accounts.api.routing import AuthRouter, pair_out
from tessera.accounts.models import AuthSession
from tessera.accounts.schemas import LogoutAllOut, RefreshIn, SessionOut, TokenPairOut
from tessera.core.auth import bearer_auth, require_user
from tessera.core.context import client_context

router = AuthRouter()


@router.post("/refresh", response=TokenPairOut, summary="Rotate the refresh token for a new pair")
def refresh(request: HttpRequest, payload: RefreshIn) -> TokenPairOut:
    return pair_out(
        request,
        services.session_refresh(
            refresh_token=payload.refresh_token, client=client_context(request)
        ),
    )


@router.post("/logout", response={204: None}, auth=bearer_auth, summary="End this session")
def logout(request: HttpRequest) -> Status[None]:
    user = require_user(request)
    if user.auth_session_id is not None:
        services.session_end(
            user=user,
            session_id=user.auth_session_id,
            reason=AuthSession.EndReason.LOGOUT,
            client=client_context(request),
        )
    return Status(204, None)


@router.post("/logout-all", response=LogoutAllOut, auth=bearer_auth, summary="End every session")
def logout_all(request: HttpRequest) -> LogoutAllOut:
    ended = services.sessions_end_all(
        user=require_user(request),
        reason=AuthSession.EndReason.LOGOUT_ALL,
        client=client_context(request),
    )
    return LogoutAllOut(ended=ended)


@router.get(
    "/sessions",
    response=list[SessionOut],
    auth=bearer_auth,
    summary="Your active sessions (device, address, last use), most recent first",
)
def session_list(request: HttpRequest) -> list[SessionOut]:
    user = require_user(request)
    return [
        SessionOut(
            id=session.pk,
            method=session.method,
            device=session.device,
            ip_address=session.ip_address,
            created_at=session.created_at,
            last_used_at=session.last_used_at,
            current=session.pk == user.auth_session_id,
        )
        for session in selectors.session_list_active(user=user)[:100]
    ]


@router.delete(
    "/sessions/{session_id}", response={204: None}, auth=bearer_auth, summary="End one session"
)
def session_delete(request: HttpRequest, session_id: UUID) -> Status[None]:
    services.session_end(
        user=require_user(request),
        session_id=session_id,
        reason=AuthSession.EndReason.ENDED_BY_USER,
        client=client_context(request),
    )
    return Status(204, None)
