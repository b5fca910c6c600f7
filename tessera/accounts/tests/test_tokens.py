"""Access tokens, refresh rotation with reuse detection, logout and sessions."""

from __future__ import annotations

import base64
import json
from datetime import UTC, datetime, timedelta
from typing import Any

import jwt
import pytest

from tessera.accounts.models import AuthSession, RefreshToken
from tessera.accounts.tokens import access_token_issue, access_token_verify
from tessera.audit.models import AuditLog
from tessera.notifications.models import Notification
from tests.fixtures import ApiClient

pytestmark = pytest.mark.django_db

PASSWORD = "correct horse battery"


def sign_in(address: str = "127.0.0.1", agent: str = "") -> dict[str, Any]:
    client = ApiClient(REMOTE_ADDR=address, HTTP_USER_AGENT=agent)
    response = client.post("/api/auth/login", {"email": "ada@example.com", "password": PASSWORD})
    assert response.status_code == 200, response.json()
    return dict(response.json()["data"])


def me(token: str) -> Any:
    return ApiClient(token=token).get("/api/auth/me")


def _b64(data: dict[str, Any]) -> str:
    return base64.urlsafe_b64encode(json.dumps(data).encode()).rstrip(b"=").decode()


def _claims(user: Any, **extra: Any) -> dict[str, Any]:
    now = datetime.now(tz=UTC)
    return {
        "sub": str(user.pk),
        "type": "access",
        "iat": now,
        "exp": now + timedelta(minutes=5),
        "iss": "tessera",
        **extra,
    }


def assert_refused(token: str) -> None:
    response = me(token)
    assert response.status_code == 401
    assert response.json()["error"]["code"] == "not_authenticated"


def test_a_token_signed_with_alg_none_is_refused(user: Any) -> None:
    claims = _claims(user)
    claims["iat"] = int(claims["iat"].timestamp())
    claims["exp"] = int(claims["exp"].timestamp())
    token = f"{_b64({'alg': 'none', 'typ': 'JWT', 'kid': 'k1'})}.{_b64(claims)}."

    assert_refused(token)


def test_a_token_signed_with_another_key_is_refused(user: Any) -> None:
    token = jwt.encode(_claims(user), "not-our-key" * 4, algorithm="HS256", headers={"kid": "k1"})

    assert_refused(token)


def test_a_token_naming_an_unknown_key_is_refused(user: Any) -> None:
    token = jwt.encode(_claims(user), "x" * 40, algorithm="HS256", headers={"kid": "k9"})

    assert_refused(token)


def test_a_tampered_token_is_refused(user: Any, other_user: Any) -> None:
    header, _payload, signature = access_token_issue(user=user).split(".")
    forged = _claims(other_user)
    forged["iat"] = int(forged["iat"].timestamp())
    forged["exp"] = int(forged["exp"].timestamp())

    assert_refused(f"{header}.{_b64(forged)}.{signature}")


def test_an_expired_token_is_refused(user: Any) -> None:
    token = access_token_issue(user=user, lifetime=timedelta(seconds=-1))

    assert_refused(token)


def test_a_refresh_token_is_not_an_access_token(user: Any) -> None:
    pair = sign_in()

    assert_refused(pair["refreshToken"])


@pytest.mark.parametrize("header", ["Bearer", "Bearer ", "Basic abc", "bearer x.y.z", "Token abc"])
def test_malformed_authorization_headers_are_401(header: str) -> None:
    response = ApiClient(HTTP_AUTHORIZATION=header).get("/api/auth/me")

    assert response.status_code == 401


def test_keys_rotate_without_logging_anyone_out(user: Any, settings: Any) -> None:
    old_token = access_token_issue(user=user)
    settings.JWT_SIGNING_KEYS = {
        "k2": "a-brand-new-signing-key-0123456789abcdef",
        "k1": settings.SECRET_KEY,
    }
    settings.JWT_ACTIVE_KEY_ID = "k2"

    new_token = access_token_issue(user=user)

    assert jwt.get_unverified_header(new_token)["kid"] == "k2"
    assert me(old_token).status_code == 200
    assert me(new_token).status_code == 200
    settings.JWT_SIGNING_KEYS = {"k2": "a-brand-new-signing-key-0123456789abcdef"}
    assert_refused(old_token)  # once k1 is retired


def test_refresh_rotates_the_refresh_token(user: Any) -> None:
    pair = sign_in()

    response = ApiClient().post("/api/auth/refresh", {"refreshToken": pair["refreshToken"]})

    assert response.status_code == 200
    rotated = response.json()["data"]
    assert rotated["refreshToken"] != pair["refreshToken"]
    assert rotated["sessionId"] == pair["sessionId"]
    assert me(rotated["accessToken"]).status_code == 200
    assert RefreshToken.objects.filter(session_id=pair["sessionId"]).count() == 2
    assert RefreshToken.objects.filter(used_at__isnull=True).count() == 1


def test_a_refresh_token_replayed_after_rotation_ends_its_whole_family(
    user: Any, run_on_commit: Any
) -> None:
    pair = sign_in()
    other_device = sign_in(address="10.9.9.9")
    rotated = (
        ApiClient().post("/api/auth/refresh", {"refreshToken": pair["refreshToken"]}).json()["data"]
    )

    with run_on_commit():
        replay = ApiClient().post("/api/auth/refresh", {"refreshToken": pair["refreshToken"]})

    assert replay.status_code == 401
    assert replay.json()["error"]["code"] == "refresh_token_reused"
    session = AuthSession.objects.get(pk=pair["sessionId"])
    assert session.revoked_reason == "refresh_reuse"
    # The newest token of the family and its access token die too.
    after = ApiClient().post("/api/auth/refresh", {"refreshToken": rotated["refreshToken"]})
    assert after.status_code == 401
    assert_refused(rotated["accessToken"])
    # Another device's session is not part of the family.
    assert me(other_device["accessToken"]).status_code == 200
    entry = AuditLog.objects.get(action="auth.refresh.reuse_detected")
    assert entry.target_id == pair["sessionId"]
    assert entry.actor_id == user.pk
    alert = Notification.objects.get(user=user, kind="security.alert")
    assert "used twice" in alert.title


def test_refresh_refuses_unknown_expired_and_ended_tokens(user: Any) -> None:
    pair = sign_in()
    client = ApiClient()

    unknown = client.post("/api/auth/refresh", {"refreshToken": "x" * 43})
    RefreshToken.objects.update(expires_at=datetime.now(tz=UTC) - timedelta(seconds=1))
    expired = client.post("/api/auth/refresh", {"refreshToken": pair["refreshToken"]})

    assert unknown.status_code == expired.status_code == 401
    assert (
        unknown.json()["error"]["code"]
        == expired.json()["error"]["code"]
        == "invalid_refresh_token"
    )


def test_logout_ends_the_current_session_only(user: Any) -> None:
    here = sign_in()
    elsewhere = sign_in(address="10.3.3.3")

    response = ApiClient(token=here["accessToken"]).post("/api/auth/logout")

    assert response.status_code == 204
    assert_refused(here["accessToken"])
    refresh = ApiClient().post("/api/auth/refresh", {"refreshToken": here["refreshToken"]})
    assert refresh.status_code == 401
    assert me(elsewhere["accessToken"]).status_code == 200


def test_logout_all_ends_every_session(user: Any) -> None:
    here = sign_in()
    elsewhere = sign_in(address="10.3.3.3")

    response = ApiClient(token=here["accessToken"]).post("/api/auth/logout-all")

    assert response.status_code == 200
    assert response.json()["data"] == {"ended": 2}
    assert_refused(here["accessToken"])
    assert_refused(elsewhere["accessToken"])


def test_sessions_list_shows_device_address_and_last_use(user: Any) -> None:
    here = sign_in(agent="Loopin/3.0 (Android 14)")
    sign_in(address="10.4.4.4", agent="Mozilla/5.0 Firefox/130.0")
    ended = sign_in(address="10.5.5.5")
    ApiClient(token=ended["accessToken"]).post("/api/auth/logout")

    response = ApiClient(token=here["accessToken"]).get("/api/auth/sessions")

    assert response.status_code == 200
    sessions = response.json()["data"]
    assert {(s["device"], s["ipAddress"], s["current"]) for s in sessions} == {
        ("Loopin/3.0 (Android 14)", "127.0.0.1", True),
        ("Mozilla/5.0 Firefox/130.0", "10.4.4.4", False),
    }
    assert all(s["lastUsedAt"].endswith("Z") and s["method"] == "password" for s in sessions)


def test_ending_one_session(user: Any) -> None:
    here = sign_in()
    elsewhere = sign_in(address="10.4.4.4")

    response = ApiClient(token=here["accessToken"]).delete(
        f"/api/auth/sessions/{elsewhere['sessionId']}"
    )

    assert response.status_code == 204
    assert_refused(elsewhere["accessToken"])
    assert me(here["accessToken"]).status_code == 200


def test_another_users_session_is_a_404(user: Any, other_user: Any, other_api: Any) -> None:
    mine = sign_in()

    response = other_api.delete(f"/api/auth/sessions/{mine['sessionId']}")

    assert response.status_code == 404
    assert response.json()["error"]["code"] == "session_not_found"
    assert me(mine["accessToken"]).status_code == 200


def test_a_deactivated_user_is_refused(user: Any) -> None:
    pair = sign_in()
    user.is_active = False
    user.save()

    assert access_token_verify(pair["accessToken"]) is None
    assert (
        ApiClient().post("/api/auth/refresh", {"refreshToken": pair["refreshToken"]}).status_code
        == 401
    )


def test_a_cached_session_ends_at_once(user: Any) -> None:
    pair = sign_in()
    client = ApiClient(token=pair["accessToken"])
    assert client.get("/api/auth/me").status_code == 200  # now cached
    assert client.get("/api/auth/me").status_code == 200

    assert client.post("/api/auth/logout").status_code == 204

    assert_refused(pair["accessToken"])


def test_a_cached_user_reflects_changes_at_once(user: Any) -> None:
    pair = sign_in()
    client = ApiClient(token=pair["accessToken"])
    client.get("/api/auth/me")

    assert client.patch("/api/auth/me", {"name": "Ada King"}).status_code == 200
    assert client.get("/api/auth/me").json()["data"]["name"] == "Ada King"
    User = type(user)  # noqa: N806
    stored = User.objects.get(pk=user.pk)
    stored.is_active = False
    stored.save()
    assert_refused(pair["accessToken"])


def test_a_cached_copy_never_overwrites_the_password(user: Any) -> None:
    pair = sign_in()
    client = ApiClient(token=pair["accessToken"])
    client.get("/api/auth/me")
    cached = access_token_verify(pair["accessToken"])
    assert cached is not None
    assert not cached.check_password(PASSWORD)  # no hash in the cache
    assert cached.has_usable_password()

    cached.name = "Countess"
    cached.save()

    user.refresh_from_db()
    assert user.name == "Countess"
    assert user.check_password(PASSWORD)
    # And a password change through a cached copy checks the real hash.
    response = client.post(
        "/api/auth/password/change",
        {"currentPassword": PASSWORD, "newPassword": "a fresh passphrase 9"},
    )
    assert response.status_code == 200


# --- Keys a route reads with the session (core.auth.BearerAuth(prefetch=...), decision 0037)


def test_a_route_s_keys_are_read_with_the_session_and_handed_back(user: Any) -> None:
    from django.core.cache import cache

    from tessera.core.auth import CachePrefetch

    pair = sign_in()
    cache.set("route:kept", b"bytes")
    asked: list[str] = []

    def keys_for(user_id: str) -> list[str]:
        asked.append(user_id)
        return ["route:kept", "route:none"]

    prefetch = CachePrefetch(keys_for)

    verified = access_token_verify(pair["accessToken"], prefetch=prefetch)

    assert verified is not None
    assert verified.pk == user.pk
    assert asked == [str(user.pk)]  # the keys are the user's the token names
    assert prefetch.values == {"route:kept": b"bytes", "route:none": None}


def test_a_forged_token_reads_no_route_keys(user: Any) -> None:
    from tessera.core.auth import CachePrefetch

    forged = jwt.encode(_claims(user), "x" * 48, algorithm="HS256", headers={"kid": "k1"})
    prefetch = CachePrefetch(lambda _user_id: pytest.fail("keys asked for a forged token"))

    assert access_token_verify(forged, prefetch=prefetch) is None
    assert prefetch.values is None


def test_an_ended_session_is_refused_whatever_was_read_with_it(user: Any) -> None:
    from tessera.core.auth import CachePrefetch

    pair = sign_in()
    assert me(pair["accessToken"]).status_code == 200  # the session entry is cached
    assert ApiClient(token=pair["accessToken"]).post("/api/auth/logout").status_code == 204
    prefetch = CachePrefetch(lambda _user_id: ["route:kept"])

    assert access_token_verify(pair["accessToken"], prefetch=prefetch) is None
