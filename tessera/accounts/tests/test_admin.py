"""The admin: search by email, phone and name; deactivate and end-all-sessions actions."""

from __future__ import annotations

from typing import Any

import pytest
from django.test import Client

from tessera.accounts.models import AuthSession, User
from tessera.audit.models import AuditLog
from tests.fixtures import ApiClient

pytestmark = pytest.mark.django_db


@pytest.fixture
def admin_client(db: Any) -> Client:
    admin = User.objects.create_superuser(email="root@example.com", password="root-pass-123456")
    client = Client()
    client.force_login(admin)
    return client


def sign_in() -> dict[str, Any]:
    response = ApiClient().post(
        "/api/auth/login", {"email": "ada@example.com", "password": "correct horse battery"}
    )
    return dict(response.json()["data"])


@pytest.mark.parametrize("term", ["ada@example", "+2782555", "Lovelace"])
def test_users_are_searchable_by_email_phone_and_name(
    admin_client: Client, user: Any, other_user: Any, term: str
) -> None:
    User.objects.filter(pk=user.pk).update(phone_number="+27825550000", name="Ada Lovelace")

    response = admin_client.get("/admin/accounts/user/", {"q": term})

    assert response.status_code == 200
    assert "ada@example.com" in response.content.decode()
    assert "grace@example.com" not in response.content.decode()


def test_user_page_shows_sessions(admin_client: Client, user: Any) -> None:
    sign_in()

    response = admin_client.get(f"/admin/accounts/user/{user.pk}/change/")

    assert response.status_code == 200
    assert "127.0.0.1" in response.content.decode()


def test_deactivate_action_disables_and_ends_sessions(admin_client: Client, user: Any) -> None:
    pair = sign_in()

    response = admin_client.post(
        "/admin/accounts/user/",
        {"action": "deactivate_users", "_selected_action": [str(user.pk)]},
        follow=True,
    )

    assert response.status_code == 200
    user.refresh_from_db()
    assert not user.is_active
    assert ApiClient(token=pair["accessToken"]).get("/api/auth/me").status_code == 401
    entry = AuditLog.objects.get(action="account.deactivated")
    assert entry.actor.email == "root@example.com"  # type: ignore[union-attr]


def test_end_all_sessions_action(admin_client: Client, user: Any) -> None:
    pair = sign_in()

    admin_client.post(
        "/admin/accounts/user/",
        {"action": "end_all_sessions", "_selected_action": [str(user.pk)]},
        follow=True,
    )

    assert AuthSession.objects.get().revoked_reason == "admin"
    assert ApiClient(token=pair["accessToken"]).get("/api/auth/me").status_code == 401
    user.refresh_from_db()
    assert user.is_active


def test_logins_are_visible_in_the_audit_log_admin(admin_client: Client, user: Any) -> None:
    sign_in()

    response = admin_client.get("/admin/audit/auditlog/", {"q": "auth.login"})

    assert response.status_code == 200
    assert "auth.login.succeeded" in response.content.decode()


@pytest.mark.parametrize(
    "path",
    [
        "/admin/accounts/authsession/",
        "/admin/accounts/socialaccount/",
        "/admin/accounts/eventinterest/",
    ],
)
def test_other_accounts_admin_pages_open(admin_client: Client, user: Any, path: str) -> None:
    sign_in()

    assert admin_client.get(path).status_code == 200
