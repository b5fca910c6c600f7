"""Profile pictures (1 to 6) and the avatar, uploaded through /api/files and attached here."""

from __future__ import annotations

import io
from collections.abc import Iterator
from typing import Any

import pytest
from PIL import Image

from tessera.accounts.models import EventInterest, ProfilePicture
from tessera.files.storage import file_store

pytestmark = pytest.mark.django_db

BOUNDARY = "accounts-test-boundary"


@pytest.fixture(autouse=True)
def _local_files(settings: Any, tmp_path: Any) -> Iterator[None]:
    settings.FILES_STORAGE_BACKEND = "local"
    settings.MEDIA_ROOT = tmp_path / "media"
    settings.FILES_PUBLIC_BASE_URL = ""
    file_store.cache_clear()
    yield
    file_store.cache_clear()


def png(color: str = "red") -> bytes:
    buffer = io.BytesIO()
    Image.new("RGB", (40, 30), color).save(buffer, format="PNG")
    return buffer.getvalue()


def upload(client: Any, purpose: str, color: str = "red") -> str:
    body = (
        (
            f'--{BOUNDARY}\r\nContent-Disposition: form-data; name="file"; filename="me.png"\r\n'
            "Content-Type: image/png\r\n\r\n"
        ).encode()
        + png(color)
        + f"\r\n--{BOUNDARY}--\r\n".encode()
    )
    with_commit = client.generic(
        "POST",
        f"/api/files?purpose={purpose}",
        body,
        content_type=f"multipart/form-data; boundary={BOUNDARY}",
    )
    assert with_commit.status_code in (200, 201, 202), with_commit.json()
    return str(with_commit.json()["data"]["id"])


def complete_body(pictures: list[str]) -> dict[str, Any]:
    return {
        "name": "Thandi Nkosi",
        "birthDate": "1996-04-02",
        "gender": "female",
        "eventInterests": [str(EventInterest.objects.get(slug="music").pk)],
        "profilePictures": pictures,
        "bio": "Jazz on Sundays.",
        "location": "Johannesburg",
    }


def test_complete_profile_with_pictures(
    user_api: Any, user: Any, django_capture_on_commit_callbacks: Any
) -> None:
    with django_capture_on_commit_callbacks(execute=True):
        pictures = [upload(user_api, "profile_picture", color) for color in ("red", "blue")]

    response = user_api.post("/api/auth/complete-profile", complete_body(pictures[::-1]))

    assert response.status_code == 200, response.json()
    data = response.json()["data"]
    assert data["needsProfileCompletion"] is False
    assert [picture["id"] for picture in data["profilePictures"]] == pictures[::-1]
    assert all(picture["purpose"] == "profile_picture" for picture in data["profilePictures"])
    assert [i["slug"] for i in data["eventInterests"]] == ["music"]
    assert data["location"] == "Johannesburg"
    assert list(ProfilePicture.objects.filter(user=user).values_list("position", flat=True)) == [
        0,
        1,
    ]


def test_another_users_picture_cannot_be_attached(
    user_api: Any, other_api: Any, user: Any, django_capture_on_commit_callbacks: Any
) -> None:
    with django_capture_on_commit_callbacks(execute=True):
        theirs = upload(other_api, "profile_picture")

    response = user_api.post("/api/auth/complete-profile", complete_body([theirs]))

    assert response.status_code == 404
    assert response.json()["error"]["code"] == "file_not_found"
    user.refresh_from_db()
    assert user.profile_completed_at is None
    assert not ProfilePicture.objects.exists()
    assert user.interests.count() == 0


def test_a_file_of_another_purpose_cannot_be_a_profile_picture(
    user_api: Any, django_capture_on_commit_callbacks: Any
) -> None:
    with django_capture_on_commit_callbacks(execute=True):
        avatar = upload(user_api, "avatar")

    response = user_api.post("/api/auth/complete-profile", complete_body([avatar]))

    assert response.status_code == 422
    assert not ProfilePicture.objects.exists()


def test_avatar_is_set_and_cleared_through_patch_me(
    user_api: Any, user: Any, django_capture_on_commit_callbacks: Any
) -> None:
    with django_capture_on_commit_callbacks(execute=True):
        avatar = upload(user_api, "avatar")

    response = user_api.patch("/api/auth/me", {"avatarFileId": avatar})

    assert response.status_code == 200
    assert response.json()["data"]["avatar"]["id"] == avatar
    assert response.json()["data"]["avatar"]["purpose"] == "avatar"
    cleared = user_api.patch("/api/auth/me", {"avatarFileId": None})
    assert cleared.json()["data"]["avatar"] is None


def test_deleting_the_account_deletes_its_pictures(
    user_api: Any, user: Any, django_capture_on_commit_callbacks: Any
) -> None:
    with django_capture_on_commit_callbacks(execute=True):
        picture = upload(user_api, "profile_picture")
        avatar = upload(user_api, "avatar")
    user_api.post("/api/auth/complete-profile", complete_body([picture]))
    user_api.patch("/api/auth/me", {"avatarFileId": avatar})

    with django_capture_on_commit_callbacks(execute=True):
        response = user_api.delete(
            "/api/auth/me", {"password": "correct horse battery"}, content_type="application/json"
        )

    assert response.status_code == 204
    assert not ProfilePicture.objects.exists()
    user.refresh_from_db()
    assert user.avatar_id is None
    assert not user.stored_files.exists()
