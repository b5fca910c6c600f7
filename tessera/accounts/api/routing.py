"""The /api/auth/ router and the reply shapes its modules share."""

# No `from __future__ import annotations`: Ninja builds the Query and Union parameter
# models from the evaluated annotations.
from collections.abc import Callable
from typing import Any

from django.conf import settings
from django.http import HttpRequest
from django.utils.translation import gettext as _
from ninja.throttling import BaseThrottle

from tessera.accounts import selectors, services
from tessera.accounts.models import User
from tessera.accounts.schemas import CodeSentOut, TokenPairOut, UserOut
from tessera.core.api import ApiRouter
from tessera.core.auth import user_role
from tessera.core.context import client_context
from tessera.core.ratelimit import RateLimit

# Operation ids were `tessera_accounts_api_<function>` while every route lived in one
# module; clients generated from the OpenAPI document use them, so they stay put.
OPERATION_ID_PREFIX = "tessera_accounts_api_"


class AuthRouter(ApiRouter):
    """An `ApiRouter` whose operation ids do not depend on the module a view lives in."""

    def add_api_operation(
        self,
        path: str,
        methods: list[str],
        view_func: Callable[..., Any],
        *,
        operation_id: str | None = None,
        **kwargs: Any,
    ) -> None:
        super().add_api_operation(
            path,
            methods,
            view_func,
            operation_id=operation_id or OPERATION_ID_PREFIX + view_func.__name__,
            **kwargs,
        )


LOGIN_LIMIT: list[BaseThrottle] = [RateLimit(settings.AUTH_LOGIN_RATE, key="ip")]
REGISTER_LIMIT: list[BaseThrottle] = [RateLimit(settings.AUTH_REGISTER_RATE, key="ip")]
VERIFY_LIMIT: list[BaseThrottle] = [RateLimit(settings.AUTH_OTP_VERIFY_IP_RATE, key="ip")]
RESET_LIMIT: list[BaseThrottle] = [RateLimit(settings.AUTH_PASSWORD_RESET_RATE, key="ip")]


def per_user(rate: str) -> list[BaseThrottle]:
    return [RateLimit(rate, key="user")]


def user_out(user: User, request: HttpRequest | None = None) -> UserOut:
    client = client_context(request) if request is not None else None
    extras = selectors.user_profile_extras(user=user, client=client)
    return UserOut(
        id=user.pk,
        email=user.email,
        email_verified=user.email_verified_at is not None,
        phone_number=user.phone_number,
        phone_verified=user.phone_verified_at is not None,
        name=user.name,
        language=user.language,
        role=user_role(user).value,
        birth_date=user.birth_date,
        gender=user.gender or None,
        bio=user.bio,
        location=user.location,
        event_interests=extras["eventInterests"],
        avatar=extras["avatar"],
        profile_pictures=extras["profilePictures"],
        needs_profile_completion=user.needs_profile_completion,
        has_password=user.has_usable_password(),
        date_joined=user.date_joined,
    )


def pair_out(request: HttpRequest, pair: services.TokenPair) -> TokenPairOut:
    return TokenPairOut(
        access_token=pair.access_token,
        refresh_token=pair.refresh_token,
        expires_in=pair.expires_in,
        refresh_expires_in=pair.refresh_expires_in,
        session_id=pair.session.pk,
        needs_profile_completion=pair.user.needs_profile_completion,
        user=user_out(pair.user, request),
    )


def code_sent_out(sent: services.CodeSent) -> CodeSentOut:
    return CodeSentOut(
        detail=_("If the number can receive it, a code is on its way by SMS."),
        phone_number=sent.phone_number,
        expires_in=sent.expires_in,
        resend_in=sent.resend_in,
        code_length=sent.code_length,
    )
