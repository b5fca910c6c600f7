"""Sign in with GitHub or Google: the web redirect flow and the mobile (provider token) flow.

A known identity signs its user in. A new one is linked to the user with the same email
when the provider says that email is verified; otherwise a new user is created. Linking to
an account whose own email was never verified also clears that account's password and
sessions: whoever registered the address before its owner cannot keep a way in.
"""

from __future__ import annotations

import secrets
from dataclasses import dataclass

from django.conf import settings
from django.core import signing
from django.db import transaction
from django.utils import timezone, translation
from django.utils.translation import gettext

from tessera.accounts.errors import (
    AccountDisabledError,
    InvalidOAuthStateError,
    RedirectUriNotAllowedError,
)
from tessera.accounts.locks import advisory_lock
from tessera.accounts.models import AuthSession, SocialAccount, User
from tessera.accounts.services.passwords import _alert
from tessera.accounts.services.sessions import TokenPair, session_start, sessions_end_all
from tessera.accounts.social import SocialProfile, provider_get
from tessera.audit.services import audit_record
from tessera.core.analytics import AnalyticsEvent, analytics_capture
from tessera.core.context import ClientContext

STATE_SALT = "tessera.accounts.social.state"


@dataclass(frozen=True)
class AuthorizationStart:
    authorization_url: str
    state: str


def social_authorization_start(*, provider: str, redirect_uri: str) -> AuthorizationStart:
    """Where to send the browser, and the signed `state` that must come back with the code."""
    adapter = provider_get(provider)
    if redirect_uri not in settings.AUTH_SOCIAL_REDIRECT_URIS:
        raise RedirectUriNotAllowedError(fields={"redirectUri": gettext("Not an allowed URI.")})
    nonce = secrets.token_urlsafe(16)
    state = signing.dumps({"p": provider, "r": redirect_uri, "n": nonce}, salt=STATE_SALT)
    return AuthorizationStart(
        authorization_url=adapter.authorization_url(
            state=state, redirect_uri=redirect_uri, nonce=nonce
        ),
        state=state,
    )


def social_login_with_code(
    *, provider: str, code: str, state: str, client: ClientContext | None = None
) -> TokenPair:
    """The web flow's second half: check `state`, trade `code` for the person, sign in."""
    adapter = provider_get(provider)
    try:
        data = signing.loads(state, salt=STATE_SALT, max_age=settings.AUTH_SOCIAL_STATE_TTL_SECONDS)
    except signing.BadSignature:
        raise InvalidOAuthStateError from None
    if not isinstance(data, dict) or data.get("p") != provider:
        raise InvalidOAuthStateError
    tokens = adapter.exchange_code(code=code, redirect_uri=str(data.get("r", "")))
    profile = adapter.profile_from_tokens(tokens, nonce=str(data.get("n", "")))
    return social_login(profile=profile, client=client)


def social_login_with_token(
    *, provider: str, access_token: str, id_token: str, client: ClientContext | None = None
) -> TokenPair:
    """The mobile flow: the app signed in with the provider's SDK and sends its token."""
    profile = provider_get(provider).profile_from_app_token(
        access_token=access_token, id_token=id_token
    )
    return social_login(profile=profile, client=client)


def social_login(*, profile: SocialProfile, client: ClientContext | None = None) -> TokenPair:
    method = f"social_{profile.provider}"
    with transaction.atomic():
        # The same identity signing in twice at once links or creates one account.
        advisory_lock(f"social:{profile.provider}:{profile.uid}")
        account = (
            SocialAccount.objects.select_for_update()
            .select_related("user")
            .filter(provider=profile.provider, uid=profile.uid)
            .first()
        )
        if account is None:
            account = _link_or_create(profile=profile, client=client)
        user = account.user
        if not user.is_active:
            raise AccountDisabledError
        account.last_login_at = timezone.now()
        account.email = profile.email[:254]
        account.extra_data = profile.extra
        account.save(update_fields=["last_login_at", "email", "extra_data", "updated_at"])
        return session_start(user=user, method=method, client=client)


def _link_or_create(*, profile: SocialProfile, client: ClientContext | None) -> SocialAccount:
    user = None
    if profile.email_verified:
        user = User.objects.select_for_update().filter(email__iexact=profile.email).first()
    if user is not None:
        if user.email_verified_at is None:
            user.set_unusable_password()
            user.email_verified_at = timezone.now()
            user.save(update_fields=["password", "email_verified_at", "updated_at"])
            sessions_end_all(user=user, reason=AuthSession.EndReason.ACCOUNT_LINKED, client=client)
        audit_record(
            action="auth.social.linked",
            actor=user,
            target=user,
            changes={"provider": profile.provider},
            client=client,
        )
        _alert(
            user=user,
            event=gettext("Sign-in with %(provider)s was linked to your account")
            % {"provider": profile.provider.title()},
            client=client,
        )
    else:
        user = _user_for_profile(profile)
        audit_record(
            action="auth.registered",
            actor=user,
            target=user,
            changes={"provider": profile.provider},
            client=client,
        )
    return SocialAccount.objects.create(
        user=user,
        provider=profile.provider,
        uid=profile.uid,
        email=profile.email[:254],
        extra_data=profile.extra,
    )


def _user_for_profile(profile: SocialProfile) -> User:
    email = profile.email if profile.email_verified else None
    if email and User.objects.filter(email__iexact=email).exists():
        email = None
    language = translation.get_language() or settings.LANGUAGE_CODE
    user = User.objects.create_user(
        email=email, name=profile.name, language=language if language in ("en", "ar") else "en"
    )
    if email:
        user.email_verified_at = timezone.now()
        user.save(update_fields=["email_verified_at", "updated_at"])
    analytics_capture(
        distinct_id=user.pk,
        event=AnalyticsEvent.USER_SIGNED_UP,
        properties={"method": profile.provider},
    )
    return user
