"""The profile (GET/PATCH /me, complete-profile), event interests, export and deletion."""

from __future__ import annotations

from typing import Any

import pytest

from tessera.accounts.models import AuthSession, EventInterest, SocialAccount, User
from tessera.audit.models import AuditLog
from tessera.audit.services import audit_record
from tessera.tasks.models import TaskRecord
from tests.fixtures import ApiClient

pytestmark = pytest.mark.django_db


def interest_ids(*slugs: str) -> list[str]:
    return [str(EventInterest.objects.get(slug=slug).pk) for slug in slugs]


def test_event_interests_are_listed_in_order(api: Any) -> None:
    response = api.get("/api/auth/event-interests")

    assert response.status_code == 200
    interests = response.json()["data"]
    assert len(interests) == 14
    assert interests[0] == {
        "id": str(EventInterest.objects.get(slug="music").pk),
        "slug": "music",
        "name": "Music",
        "nameAr": "الموسيقى",
    }


def test_me_needs_a_token(api: Any) -> None:
    response = api.get("/api/auth/me")

    assert response.status_code == 401
    assert response.json()["error"]["code"] == "not_authenticated"


def test_me_shows_the_account(user_api: Any, user: Any) -> None:
    response = user_api.get("/api/auth/me")

    assert response.status_code == 200
    assert response.json()["data"] == {
        "id": str(user.pk),
        "email": "ada@example.com",
        "emailVerified": False,
        "phoneNumber": None,
        "phoneVerified": False,
        "name": "Ada",
        "language": "en",
        "role": "user",
        "birthDate": None,
        "gender": None,
        "bio": "",
        "location": "",
        "eventInterests": [],
        "avatar": None,
        "profilePictures": [],
        "needsProfileCompletion": True,
        "hasPassword": True,
        "dateJoined": user.date_joined.isoformat().replace("+00:00", "Z"),
    }


def test_patch_me_changes_only_the_fields_sent(user_api: Any, user: Any) -> None:
    response = user_api.patch(
        "/api/auth/me",
        {
            "bio": "Pioneer of computing",
            "location": "London",
            "birth_date": "1815-12-10",
            "gender": "female",
            "eventInterests": interest_ids("technology", "learning"),
            "language": "ar",
        },
    )

    assert response.status_code == 422  # born before 1900
    user.refresh_from_db()
    assert user.bio == ""

    response = user_api.patch(
        "/api/auth/me",
        {
            "bio": "Pioneer of computing",
            "location": "London",
            "birthDate": "1990-12-10",
            "gender": "female",
            "eventInterests": interest_ids("technology", "learning"),
            "language": "ar",
        },
    )

    assert response.status_code == 200
    data = response.json()["data"]
    assert data["name"] == "Ada"
    assert data["bio"] == "Pioneer of computing"
    assert data["birthDate"] == "1990-12-10"
    assert [i["slug"] for i in data["eventInterests"]] == ["technology", "learning"]
    user.refresh_from_db()
    assert user.language == "ar"
    assert AuditLog.objects.filter(action="account.profile.updated", actor=user).count() == 1

    cleared = user_api.patch("/api/auth/me", {"bio": None, "eventInterests": []})

    assert cleared.json()["data"]["bio"] == ""
    assert cleared.json()["data"]["eventInterests"] == []
    assert cleared.json()["data"]["location"] == "London"


@pytest.mark.parametrize(
    ("body", "field"),
    [
        ({"bio": "b" * 501}, "bio"),
        ({"location": "l" * 101}, "location"),
        ({"name": "n" * 101}, "name"),
        ({"gender": "robot"}, "gender"),
        ({"language": "fr"}, "language"),
        ({"birthDate": "2999-01-01"}, "birthDate"),
        ({"eventInterests": ["not-a-uuid"]}, "eventInterests.0"),
    ],
)
def test_patch_me_rejects_bad_values(
    user_api: Any, user: Any, body: dict[str, Any], field: str
) -> None:
    response = user_api.patch("/api/auth/me", body)

    assert response.status_code == 422
    assert field in response.json()["error"]["fields"]


def test_unknown_or_too_many_interests_are_refused(user_api: Any, user: Any) -> None:
    unknown = user_api.patch(
        "/api/auth/me", {"eventInterests": ["00000000-0000-0000-0000-000000000000"]}
    )
    too_many = user_api.patch(
        "/api/auth/me",
        {"eventInterests": interest_ids("music", "sports", "film", "travel", "gaming", "outdoors")},
    )

    assert unknown.status_code == 422
    assert unknown.json()["error"]["code"] == "unknown_event_interest"
    assert too_many.status_code == 422
    assert user.interests.count() == 0


@pytest.mark.parametrize(
    ("change", "field"),
    [
        ({"name": "A"}, "name"),
        ({"name": "  "}, "name"),
        ({"eventInterests": []}, "eventInterests"),
        ({"profilePictures": []}, "profilePictures"),
        (
            {"profilePictures": [f"00000000-0000-0000-0000-00000000000{i}" for i in range(7)]},
            "profilePictures",
        ),
        ({"bio": "b" * 501}, "bio"),
        ({"location": "l" * 101}, "location"),
        ({"gender": None}, "gender"),
        ({"birthDate": None}, "birthDate"),
    ],
)
def test_complete_profile_validates_loopins_rules(
    user_api: Any, user: Any, change: dict[str, Any], field: str
) -> None:
    body = {
        "name": "Ada Lovelace",
        "birthDate": "1990-12-10",
        "gender": "female",
        "eventInterests": interest_ids("technology"),
        "profilePictures": ["00000000-0000-0000-0000-000000000001"],
        **change,
    }

    response = user_api.post("/api/auth/complete-profile", body)

    assert response.status_code == 422
    assert field in response.json()["error"]["fields"]
    user.refresh_from_db()
    assert user.profile_completed_at is None
    assert user.interests.count() == 0


def test_account_export_is_built_by_a_task_and_read_from_its_status(
    user_api: Any, user: Any, django_capture_on_commit_callbacks: Any
) -> None:
    SocialAccount.objects.create(user=user, provider="github", uid="1", email="ada@example.com")
    with django_capture_on_commit_callbacks(execute=True):
        response = user_api.post("/api/auth/me/export")

    assert response.status_code == 202
    started = response.json()["data"]
    assert started["statusUrl"] == f"/api/tasks/{started['taskId']}"
    status = user_api.get(started["statusUrl"])
    assert status.status_code == 200
    task = status.json()["data"]
    assert task["state"] == "SUCCESS"
    export = task["result"]
    assert export["account"]["email"] == "ada@example.com"
    assert export["account"]["role"] == "user"
    assert export["linkedAccounts"][0]["provider"] == "github"
    assert {"exportedAt", "account", "profile", "linkedAccounts", "sessions"} <= set(export)
    assert TaskRecord.objects.get().owner_id == user.pk


def test_another_users_export_is_a_404(
    user_api: Any, other_api: Any, django_capture_on_commit_callbacks: Any
) -> None:
    with django_capture_on_commit_callbacks(execute=True):
        started = user_api.post("/api/auth/me/export").json()["data"]

    response = other_api.get(started["statusUrl"])

    assert response.status_code == 404


def test_deleting_the_account_erases_personal_data_and_keeps_audit_records(
    api: Any, user: Any
) -> None:
    pair = api.post(
        "/api/auth/login", {"email": "ada@example.com", "password": "correct horse battery"}
    ).json()["data"]
    client = ApiClient(token=pair["accessToken"])
    client.patch("/api/auth/me", {"bio": "secret", "eventInterests": interest_ids("music")})
    SocialAccount.objects.create(user=user, provider="google", uid="9")
    money_like = audit_record(action="wallet.deposit.credited", actor=user, target=user)

    response = client.delete("/api/auth/me")

    assert response.status_code == 204
    user.refresh_from_db()
    assert user.email is None
    assert user.phone_number is None
    assert user.name == "Deleted user"
    assert user.bio == ""
    assert not user.is_active
    assert not user.has_usable_password()
    assert user.deleted_at is not None
    assert user.interests.count() == 0
    assert not SocialAccount.objects.exists()
    assert not AuthSession.objects.filter(revoked_at__isnull=True).exists()
    assert AuditLog.objects.filter(pk=money_like.pk, actor=user).exists()
    assert AuditLog.objects.filter(action="account.deleted", actor=user).exists()
    assert client.get("/api/auth/me").status_code == 401
    # The address is free for a new account.
    assert User.objects.create_user(email="ada@example.com").pk != user.pk
