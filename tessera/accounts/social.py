"""GitHub and Google as OAuth 2.0 / OpenID Connect providers: a small interface, two adapters
over httpx and PyJWT, every URL from settings so tests point them at a local server.

The web flow: `authorization_url()` → the provider → the client posts `code` and `state`
back → `exchange_code()` → `profile_from_tokens()`. The mobile flow: the app signs in with
the provider's own SDK and posts its token → `profile_from_app_token()`.
"""

from __future__ import annotations

from dataclasses import dataclass
from functools import lru_cache
from typing import TYPE_CHECKING, Any, ClassVar
from urllib.parse import urlencode

import jwt
from django.conf import settings

from tessera.accounts.errors import (
    ProviderNotConfiguredError,
    ProviderUnavailableError,
    SocialAuthFailedError,
)

if TYPE_CHECKING:
    import httpx


@dataclass(frozen=True)
class SocialProfile:
    provider: str
    uid: str
    email: str
    email_verified: bool
    name: str
    extra: dict[str, Any]


@dataclass(frozen=True)
class ProviderTokens:
    access_token: str
    id_token: str = ""


def _request(method: str, url: str, **kwargs: Any) -> httpx.Response:
    import httpx  # here, not at the top: it weighs ~20 MB in every web worker

    try:
        response = httpx.request(
            method, url, timeout=settings.AUTH_SOCIAL_HTTP_TIMEOUT_SECONDS, **kwargs
        )
    except httpx.HTTPError as exc:
        raise ProviderUnavailableError from exc
    if response.status_code >= 500:
        raise ProviderUnavailableError
    return response


def _json(response: httpx.Response) -> Any:
    if response.status_code >= 400:
        raise SocialAuthFailedError
    try:
        return response.json()
    except ValueError:
        raise SocialAuthFailedError from None


class Provider:
    name: ClassVar[str]

    @property
    def configured(self) -> bool:
        raise NotImplementedError

    def authorization_url(self, *, state: str, redirect_uri: str, nonce: str) -> str:
        raise NotImplementedError

    def exchange_code(self, *, code: str, redirect_uri: str) -> ProviderTokens:
        raise NotImplementedError

    def profile_from_tokens(self, tokens: ProviderTokens, *, nonce: str = "") -> SocialProfile:
        raise NotImplementedError

    def profile_from_app_token(self, *, access_token: str, id_token: str) -> SocialProfile:
        raise NotImplementedError


class GitHubProvider(Provider):
    name = "github"

    @property
    def configured(self) -> bool:
        return bool(settings.GITHUB_CLIENT_ID and settings.GITHUB_CLIENT_SECRET)

    def authorization_url(self, *, state: str, redirect_uri: str, nonce: str) -> str:
        query = urlencode(
            {
                "client_id": settings.GITHUB_CLIENT_ID,
                "redirect_uri": redirect_uri,
                "scope": "read:user user:email",
                "state": state,
                "allow_signup": "true",
            }
        )
        return f"{settings.GITHUB_OAUTH_URL}/login/oauth/authorize?{query}"

    def exchange_code(self, *, code: str, redirect_uri: str) -> ProviderTokens:
        payload = _json(
            _request(
                "POST",
                f"{settings.GITHUB_OAUTH_URL}/login/oauth/access_token",
                data={
                    "client_id": settings.GITHUB_CLIENT_ID,
                    "client_secret": settings.GITHUB_CLIENT_SECRET,
                    "code": code,
                    "redirect_uri": redirect_uri,
                },
                headers={"Accept": "application/json"},
            )
        )
        token = payload.get("access_token") if isinstance(payload, dict) else None
        if not isinstance(token, str) or not token:
            raise SocialAuthFailedError
        return ProviderTokens(access_token=token)

    def profile_from_tokens(self, tokens: ProviderTokens, *, nonce: str = "") -> SocialProfile:
        headers = {
            "Authorization": f"Bearer {tokens.access_token}",
            "Accept": "application/vnd.github+json",
        }
        user = _json(_request("GET", f"{settings.GITHUB_API_URL}/user", headers=headers))
        if not isinstance(user, dict) or user.get("id") in (None, ""):
            raise SocialAuthFailedError
        email, verified = "", False
        emails = _request("GET", f"{settings.GITHUB_API_URL}/user/emails", headers=headers)
        if emails.status_code == 200:
            listed = _json(emails)
            for entry in listed if isinstance(listed, list) else []:
                if isinstance(entry, dict) and entry.get("primary"):
                    email = str(entry.get("email") or "")
                    verified = entry.get("verified") is True
        return SocialProfile(
            provider=self.name,
            uid=str(user["id"]),
            email=email,
            email_verified=verified and bool(email),
            name=str(user.get("name") or user.get("login") or "")[:100],
            extra={"login": user.get("login"), "avatar_url": user.get("avatar_url")},
        )

    def profile_from_app_token(self, *, access_token: str, id_token: str) -> SocialProfile:
        if not access_token:
            raise SocialAuthFailedError(fields={"accessToken": "GitHub needs an access token."})
        # A token another GitHub app obtained would name the same person: ask GitHub whether
        # this one was issued to our app before trusting it.
        check = _request(
            "POST",
            f"{settings.GITHUB_API_URL}/applications/{settings.GITHUB_CLIENT_ID}/token",
            json={"access_token": access_token},
            auth=(settings.GITHUB_CLIENT_ID, settings.GITHUB_CLIENT_SECRET),
            headers={"Accept": "application/vnd.github+json"},
        )
        if check.status_code != 200:
            raise SocialAuthFailedError
        return self.profile_from_tokens(ProviderTokens(access_token=access_token))


@lru_cache(maxsize=4)
def _jwks_client(url: str) -> jwt.PyJWKClient:
    return jwt.PyJWKClient(url, cache_keys=True, lifespan=3600, timeout=10)


class GoogleProvider(Provider):
    name = "google"

    @property
    def configured(self) -> bool:
        return bool(settings.GOOGLE_CLIENT_ID and settings.GOOGLE_CLIENT_SECRET)

    def authorization_url(self, *, state: str, redirect_uri: str, nonce: str) -> str:
        query = urlencode(
            {
                "client_id": settings.GOOGLE_CLIENT_ID,
                "redirect_uri": redirect_uri,
                "response_type": "code",
                "scope": "openid email profile",
                "state": state,
                "nonce": nonce,
                "prompt": "select_account",
            }
        )
        return f"{settings.GOOGLE_AUTHORIZE_URL}?{query}"

    def exchange_code(self, *, code: str, redirect_uri: str) -> ProviderTokens:
        payload = _json(
            _request(
                "POST",
                settings.GOOGLE_TOKEN_URL,
                data={
                    "client_id": settings.GOOGLE_CLIENT_ID,
                    "client_secret": settings.GOOGLE_CLIENT_SECRET,
                    "code": code,
                    "redirect_uri": redirect_uri,
                    "grant_type": "authorization_code",
                },
                headers={"Accept": "application/json"},
            )
        )
        if not isinstance(payload, dict) or not isinstance(payload.get("id_token"), str):
            raise SocialAuthFailedError
        return ProviderTokens(
            access_token=str(payload.get("access_token") or ""), id_token=payload["id_token"]
        )

    def _verify_id_token(self, id_token: str, *, nonce: str = "") -> dict[str, Any]:
        audiences = [settings.GOOGLE_CLIENT_ID, *settings.GOOGLE_EXTRA_CLIENT_IDS]
        try:
            signing_key = _jwks_client(settings.GOOGLE_JWKS_URL).get_signing_key_from_jwt(id_token)
            claims: dict[str, Any] = jwt.decode(
                id_token,
                signing_key.key,
                algorithms=["RS256"],
                audience=[audience for audience in audiences if audience],
                options={"require": ["exp", "iat", "iss", "sub", "aud"]},
            )
        except jwt.PyJWKClientConnectionError as exc:
            raise ProviderUnavailableError from exc
        except jwt.PyJWTError:
            raise SocialAuthFailedError from None
        if claims.get("iss") not in settings.GOOGLE_ISSUERS:
            raise SocialAuthFailedError
        if nonce and claims.get("nonce") != nonce:
            raise SocialAuthFailedError
        return claims

    def _profile(self, claims: dict[str, Any]) -> SocialProfile:
        email = str(claims.get("email") or "")
        return SocialProfile(
            provider=self.name,
            uid=str(claims["sub"]),
            email=email,
            email_verified=bool(email) and claims.get("email_verified") in (True, "true"),
            name=str(claims.get("name") or "")[:100],
            extra={"picture": claims.get("picture"), "hd": claims.get("hd")},
        )

    def profile_from_tokens(self, tokens: ProviderTokens, *, nonce: str = "") -> SocialProfile:
        return self._profile(self._verify_id_token(tokens.id_token, nonce=nonce))

    def profile_from_app_token(self, *, access_token: str, id_token: str) -> SocialProfile:
        # Only the ID token: it names the app it was issued to (`aud`); an access token
        # does not, so another app's token could be replayed here.
        if not id_token:
            raise SocialAuthFailedError(fields={"idToken": "Google needs an ID token."})
        return self._profile(self._verify_id_token(id_token))


PROVIDERS: dict[str, Provider] = {
    provider.name: provider for provider in (GitHubProvider(), GoogleProvider())
}


def provider_get(name: str) -> Provider:
    provider = PROVIDERS.get(name)
    if provider is None or not provider.configured:
        raise ProviderNotConfiguredError
    return provider
