"""GitHub and Google sign-in, against fake providers served on 127.0.0.1."""

from __future__ import annotations

from collections.abc import Iterator
from typing import Any
from urllib.parse import parse_qs, urlparse

import pytest

from tessera.accounts.models import AuthSession, SocialAccount, User
from tessera.accounts.tests.providers import (
    GITHUB_CLIENT_ID,
    GOOGLE_CLIENT_ID,
    FakeProviders,
    fake_providers,
    rsa_key,
)
from tessera.audit.models import AuditLog
from tests.fixtures import ApiClient

pytestmark = pytest.mark.django_db

REDIRECT = "http://127.0.0.1:3000/auth/callback"


@pytest.fixture
def providers(settings: Any) -> Iterator[FakeProviders]:
    with fake_providers(settings) as state:
        state.github_user = {"id": 583231, "login": "octocat", "name": "The Octocat"}
        state.github_emails = [
            {"email": "octo@example.com", "primary": True, "verified": True},
            {"email": "old@example.com", "primary": False, "verified": True},
        ]
        yield state


def start(api: Any, provider: str) -> dict[str, Any]:
    response = api.get(f"/api/auth/oauth/{provider}/authorize", {"redirectUri": REDIRECT})
    assert response.status_code == 200, response.json()
    return dict(response.json()["data"])


def test_github_web_flow_creates_an_account(api: Any, providers: FakeProviders) -> None:
    started = start(api, "github")
    url = urlparse(started["authorizationUrl"])
    query = parse_qs(url.query)
    assert (
        f"{url.scheme}://{url.netloc}{url.path}" == f"{providers.url}/github/login/oauth/authorize"
    )
    assert query["client_id"] == [GITHUB_CLIENT_ID]
    assert query["redirect_uri"] == [REDIRECT]
    assert query["state"] == [started["state"]]
    providers.github_codes["code-1"] = "gho_token_1"

    response = api.post(
        "/api/auth/oauth/github/callback", {"code": "code-1", "state": started["state"]}
    )

    assert response.status_code == 200, response.json()
    data = response.json()["data"]
    assert data["user"]["email"] == "octo@example.com"
    assert data["user"]["emailVerified"] is True
    assert data["user"]["name"] == "The Octocat"
    account = SocialAccount.objects.get()
    assert (account.provider, account.uid) == ("github", "583231")
    assert AuthSession.objects.get().method == "social_github"
    exchange = next(r for r in providers.requests if r[1].endswith("/access_token"))
    assert parse_qs(exchange[3].decode())["redirect_uri"] == [REDIRECT]

    # The same identity signs into the same account next time.
    providers.github_codes["code-2"] = "gho_token_2"
    again = api.post(
        "/api/auth/oauth/github/callback",
        {"code": "code-2", "state": start(api, "github")["state"]},
    )
    assert again.json()["data"]["user"]["id"] == data["user"]["id"]
    assert User.objects.count() == 1


def test_a_bad_code_is_refused(api: Any, providers: FakeProviders) -> None:
    state = start(api, "github")["state"]

    response = api.post("/api/auth/oauth/github/callback", {"code": "stolen", "state": state})

    assert response.status_code == 400
    assert response.json()["error"]["code"] == "social_auth_failed"
    assert not User.objects.exists()


@pytest.mark.parametrize("state", ["forged", "eyJwIjoiZ2l0aHViIn0:1abc:def"])
def test_a_forged_state_is_refused(api: Any, providers: FakeProviders, state: str) -> None:
    providers.github_codes["code-1"] = "gho_token_1"

    response = api.post("/api/auth/oauth/github/callback", {"code": "code-1", "state": state})

    assert response.status_code == 400
    assert response.json()["error"]["code"] == "invalid_oauth_state"
    assert providers.requests == []


def test_a_state_for_another_provider_is_refused(api: Any, providers: FakeProviders) -> None:
    state = start(api, "google")["state"]

    response = api.post("/api/auth/oauth/github/callback", {"code": "c", "state": state})

    assert response.status_code == 400
    assert response.json()["error"]["code"] == "invalid_oauth_state"


def test_only_listed_redirect_uris_are_allowed(api: Any, providers: FakeProviders) -> None:
    response = api.get(
        "/api/auth/oauth/github/authorize", {"redirectUri": "https://evil.example/cb"}
    )

    assert response.status_code == 422
    assert response.json()["error"]["code"] == "redirect_uri_not_allowed"


def test_an_unconfigured_provider_is_a_404(api: Any) -> None:
    response = api.get("/api/auth/oauth/github/authorize", {"redirectUri": REDIRECT})

    assert response.status_code == 404
    assert response.json()["error"]["code"] == "provider_not_configured"


def test_a_provider_that_is_down_is_a_502(api: Any, providers: FakeProviders) -> None:
    state = start(api, "github")["state"]
    providers.fail_with = 503

    response = api.post("/api/auth/oauth/github/callback", {"code": "c", "state": state})

    assert response.status_code == 502
    assert response.json()["error"]["code"] == "provider_unavailable"


def test_github_links_to_the_account_with_the_same_verified_email(
    api: Any, providers: FakeProviders, user: Any
) -> None:
    user.email_verified_at = user.date_joined
    user.save()
    providers.github_emails = [{"email": "Ada@Example.com", "primary": True, "verified": True}]
    providers.github_app_tokens.add("gho_app_token")

    response = api.post("/api/auth/oauth/github/token", {"accessToken": "gho_app_token"})

    assert response.status_code == 200
    assert response.json()["data"]["user"]["id"] == str(user.pk)
    assert SocialAccount.objects.get().user == user
    user.refresh_from_db()
    assert user.check_password("correct horse battery")  # a verified owner keeps it
    assert AuditLog.objects.filter(action="auth.social.linked", actor=user).exists()


def test_linking_to_an_unverified_account_clears_its_password_and_sessions(
    api: Any, providers: FakeProviders, user: Any
) -> None:
    # Someone registered ada@example.com with a password before Ada signed in with GitHub.
    squatter = api.post(
        "/api/auth/login", {"email": "ada@example.com", "password": "correct horse battery"}
    ).json()["data"]
    providers.github_emails = [{"email": "ada@example.com", "primary": True, "verified": True}]
    providers.github_app_tokens.add("gho_app_token")

    response = api.post("/api/auth/oauth/github/token", {"accessToken": "gho_app_token"})

    assert response.status_code == 200
    user.refresh_from_db()
    assert not user.has_usable_password()
    assert user.email_verified_at is not None
    assert ApiClient(token=squatter["accessToken"]).get("/api/auth/me").status_code == 401


def test_an_unverified_provider_email_creates_a_separate_account(
    api: Any, providers: FakeProviders, user: Any
) -> None:
    providers.github_emails = [{"email": "ada@example.com", "primary": True, "verified": False}]
    providers.github_app_tokens.add("gho_app_token")

    response = api.post("/api/auth/oauth/github/token", {"accessToken": "gho_app_token"})

    assert response.status_code == 200
    created = response.json()["data"]["user"]
    assert created["id"] != str(user.pk)
    assert created["email"] is None
    assert SocialAccount.objects.get().user_id != user.pk


def test_github_mobile_token_issued_to_another_app_is_refused(
    api: Any, providers: FakeProviders
) -> None:
    providers.github_codes["x"] = "gho_other_apps_token"  # valid at GitHub, not ours

    response = api.post("/api/auth/oauth/github/token", {"accessToken": "gho_other_apps_token"})

    assert response.status_code == 400
    assert response.json()["error"]["code"] == "social_auth_failed"
    assert not User.objects.exists()


def test_google_web_flow(api: Any, providers: FakeProviders) -> None:
    started = start(api, "google")
    nonce = parse_qs(urlparse(started["authorizationUrl"]).query)["nonce"][0]
    providers.google_codes["g-code"] = {
        "sub": "1170000000001",
        "email": "lin@example.com",
        "email_verified": True,
        "name": "Lin Wei",
        "nonce": nonce,
    }

    response = api.post(
        "/api/auth/oauth/google/callback", {"code": "g-code", "state": started["state"]}
    )

    assert response.status_code == 200, response.json()
    assert response.json()["data"]["user"]["email"] == "lin@example.com"
    assert SocialAccount.objects.get().uid == "1170000000001"


def test_google_id_token_with_a_wrong_nonce_is_refused(api: Any, providers: FakeProviders) -> None:
    started = start(api, "google")
    providers.google_codes["g-code"] = {"sub": "1", "email": "l@example.com", "nonce": "replayed"}

    response = api.post(
        "/api/auth/oauth/google/callback", {"code": "g-code", "state": started["state"]}
    )

    assert response.status_code == 400
    assert response.json()["error"]["code"] == "social_auth_failed"


def test_google_mobile_flow_with_an_id_token(api: Any, providers: FakeProviders) -> None:
    token = providers.google_id_token(sub="42", email="m@example.com", email_verified=True)

    response = api.post("/api/auth/oauth/google/token", {"idToken": token})

    assert response.status_code == 200
    assert response.json()["data"]["user"]["email"] == "m@example.com"


@pytest.mark.parametrize(
    "change",
    [
        {"aud": "someone-elses-app.apps.googleusercontent.com"},
        {"iss": "https://evil.example"},
        {"exp": 1_000_000_000, "iat": 999_999_000},
        {"foreign_key": True},
    ],
)
def test_google_id_tokens_that_are_not_ours_are_refused(
    api: Any, providers: FakeProviders, change: dict[str, Any]
) -> None:
    key = None
    if change.pop("foreign_key", False):
        key = rsa_key("attacker")
    token = providers.google_id_token(key=key, sub="42", email="m@example.com", **change)

    response = api.post("/api/auth/oauth/google/token", {"idToken": token})

    assert response.status_code == 400
    assert response.json()["error"]["code"] == "social_auth_failed"
    assert not User.objects.exists()


def test_google_extra_client_ids_are_accepted(
    api: Any, providers: FakeProviders, settings: Any
) -> None:
    settings.GOOGLE_EXTRA_CLIENT_IDS = ["android-app.apps.googleusercontent.com"]
    token = providers.google_id_token(sub="7", aud="android-app.apps.googleusercontent.com")

    response = api.post("/api/auth/oauth/google/token", {"idToken": token})

    assert response.status_code == 200
    assert GOOGLE_CLIENT_ID != "android-app.apps.googleusercontent.com"
