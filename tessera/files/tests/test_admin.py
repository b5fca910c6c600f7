"""The admin: files by owner, purpose, status and size, with previews; deleting cleans up."""

from __future__ import annotations

from typing import Any

import pytest
from django.test import Client

from tessera.files.models import StoredFile
from tessera.files.tasks import process_image
from tessera.files.tests import images
from tessera.files.tests.test_services import uploaded

pytestmark = pytest.mark.django_db

CHANGELIST = "/admin/files/storedfile/"


@pytest.fixture
def admin_client_logged_in(db: Any) -> Client:
    from tessera.accounts.models import User

    admin_user = User.objects.create_superuser(email="admin@example.com", password="x" * 20)
    client = Client()
    client.force_login(admin_user)
    return client


def test_changelist_shows_previews_and_filters(admin_client_logged_in: Client, user: Any) -> None:
    ready = uploaded(user)
    process_image(file_id=str(ready.pk))
    video = uploaded(user, images.mp4_bytes(), purpose="capsule_media")

    page = admin_client_logged_in.get(CHANGELIST)
    videos = admin_client_logged_in.get(CHANGELIST, {"purpose__exact": "capsule_media"})
    large = admin_client_logged_in.get(CHANGELIST, {"size": "large"})
    by_owner = admin_client_logged_in.get(CHANGELIST, {"q": "ada@example.com"})

    html = page.content.decode()
    assert page.status_code == 200
    assert f'<img src="/media/public/avatar/{ready.pk}/thumbnail.jpg"' in html
    assert list(videos.context["cl"].result_list) == [video]
    assert list(large.context["cl"].result_list) == []
    assert set(by_owner.context["cl"].result_list) == {ready, video}


def test_change_view_shows_a_large_preview(admin_client_logged_in: Client, user: Any) -> None:
    private = uploaded(user, visibility="private")
    process_image(file_id=str(private.pk))

    page = admin_client_logged_in.get(f"{CHANGELIST}{private.pk}/change/")

    assert page.status_code == 200
    assert '<img src="/files/private/' in page.content.decode()


def test_deleting_in_the_admin_removes_the_stored_objects(
    admin_client_logged_in: Client, user: Any, keys: Any
) -> None:
    first, second = uploaded(user), uploaded(user)
    process_image(file_id=str(first.pk))
    assert len(keys()) == 6

    response = admin_client_logged_in.post(
        CHANGELIST,
        {"action": "delete_selected", "_selected_action": [first.pk, second.pk], "post": "yes"},
    )

    assert response.status_code == 302
    assert StoredFile.objects.count() == 0
    assert keys() == []


@pytest.mark.s3
def test_s3_previews_are_allowed_by_the_admin_content_policy(
    admin_client_logged_in: Client, user: Any, s3_store: Any
) -> None:
    page = admin_client_logged_in.get(CHANGELIST)

    origin = s3_store.storage.endpoint_url
    assert f"img-src 'self' {origin}" in page["Content-Security-Policy"]
