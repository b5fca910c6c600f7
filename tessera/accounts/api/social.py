"""GitHub and Google: the web redirect flow and the mobile token flow."""

# No `from __future__ import annotations`: Ninja builds the Query parameter model from the
# evaluated annotations.
from django.http import HttpRequest
from ninja import Query

from tessera.accounts import services
from tessera.accounts.api.routing import LOGIN_LIMIT, AuthRouter, pair_out
from tessera.accounts.schemas import (
    AuthorizationOut,
    ProviderName,
    SocialCallbackIn,
    SocialStartQuery,
    SocialTokenIn,
    TokenPairOut,
)
from tessera.core.context import client_context

router = AuthRouter()


@router.get(
    "/oauth/{provider}/authorize",
    response=AuthorizationOut,
    summary="Start the web sign-in with GitHub or Google: where to send the browser",
)
def social_authorize(
    request: HttpRequest, provider: ProviderName, query: Query[SocialStartQuery]
) -> AuthorizationOut:
    start = services.social_authorization_start(provider=provider, redirect_uri=query.redirect_uri)
    return AuthorizationOut(authorization_url=start.authorization_url, state=start.state)


@router.post(
    "/oauth/{provider}/callback",
    response=TokenPairOut,
    throttle=LOGIN_LIMIT,
    summary="Finish the web sign-in: the `code` and `state` the provider sent back",
)
def social_callback(
    request: HttpRequest, provider: ProviderName, payload: SocialCallbackIn
) -> TokenPairOut:
    return pair_out(
        request,
        services.social_login_with_code(
            provider=provider,
            code=payload.code,
            state=payload.state,
            client=client_context(request),
        ),
    )


@router.post(
    "/oauth/{provider}/token",
    response=TokenPairOut,
    throttle=LOGIN_LIMIT,
    summary="Mobile sign-in: the app posts the provider's token (GitHub access, Google ID)",
)
def social_token(
    request: HttpRequest, provider: ProviderName, payload: SocialTokenIn
) -> TokenPairOut:
    return pair_out(
        request,
        services.social_login_with_token(
            provider=provider,
            access_token=payload.access_token,
            id_token=payload.id_token,
            client=client_context(request),
        ),
    )
