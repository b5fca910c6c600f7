"""The S3 lane: the same flows against a real S3 API (moto in server mode on 127.0.0.1),
through boto3 and django-storages, with presigned URLs fetched over HTTP."""

from __future__ import annotations

import io
import uuid
from datetime import timedelta
from typing import Any

import httpx
import pytest
from django.utils import timezone

from tessera.files.models import StoredFile
from tessera.files.processing import files_cleanup
from tessera.files.tests import images
from tessera.files.tests.helpers import data_of, error_of, image_of, sha256, upload

pytestmark = [pytest.mark.s3, pytest.mark.django_db]


def bucket_keys(store: Any) -> list[str]:
    response = store.client.list_objects_v2(Bucket=store.bucket_name)
    return sorted(entry["Key"] for entry in response.get("Contents", []))


def test_upload_process_and_serve_a_public_avatar(
    s3_store: Any, user_api: Any, django_capture_on_commit_callbacks: Any
) -> None:
    with django_capture_on_commit_callbacks(execute=True):
        response = upload(user_api, images.jpeg_bytes(size=(1600, 1200), orientation=6, gps=True))
    body = data_of(user_api.get(f"/api/files/{data_of(response)['id']}"))

    file_id = body["id"]
    assert body["status"] == "ready"
    assert bucket_keys(s3_store) == sorted(
        f"public/avatar/{file_id}/{name}"
        for name in ("original.jpg", "thumbnail.jpg", "medium.jpg", "thumbnail.webp", "medium.webp")
    )
    thumbnail_url = body["variants"]["thumbnail"]["url"]
    assert thumbnail_url == (
        f"{s3_store.storage.endpoint_url}/{s3_store.bucket_name}"
        f"/public/avatar/{file_id}/thumbnail.jpg"
    )
    fetched = httpx.get(thumbnail_url)
    assert fetched.status_code == 200
    assert fetched.headers["content-type"] == "image/jpeg"
    picture = image_of(fetched.content)
    assert picture.size == (192, 256)
    original = image_of(httpx.get(body["url"]).content)
    assert (original.size, dict(original.getexif())) == ((1200, 1600), {})


def test_private_files_get_short_lived_presigned_links(s3_store: Any, user_api: Any) -> None:
    data = images.mp4_bytes(20_000)

    body = data_of(upload(user_api, data, purpose="capsule_media", filename="our day.mp4"))

    assert "X-Amz-Signature=" in body["url"]
    assert "X-Amz-Expires=300" in body["url"]
    fetched = httpx.get(body["url"])
    assert fetched.status_code == 200
    assert fetched.content == data
    assert fetched.headers["content-type"] == "video/mp4"
    assert fetched.headers["content-disposition"] == 'inline; filename="our day.mp4"'
    unsigned = httpx.get(body["url"].split("?")[0])
    assert unsigned.status_code == 403


def test_direct_upload_to_a_presigned_put_then_complete(s3_store: Any, user_api: Any) -> None:
    data = images.mp4_bytes(300_000)
    started = data_of(
        user_api.post(
            "/api/files/uploads",
            {
                "purpose": "capsule_media",
                "filename": "clip.mp4",
                "contentType": "video/mp4",
                "size": len(data),
                "sha256": sha256(data),
            },
        )
    )
    target = started["upload"]

    sent = httpx.put(target["url"], content=data, headers=target["headers"])
    completed = user_api.post(f"/api/files/{started['file']['id']}/complete")

    assert target["method"] == "PUT"
    assert "X-Amz-SignedHeaders=content-type%3Bhost" in target["url"]
    assert sent.status_code == 200
    assert completed.status_code == 200
    assert data_of(completed)["status"] == "ready"
    assert httpx.get(data_of(completed)["url"]).content == data


def test_a_checksum_mismatch_removes_the_object_from_the_bucket(
    s3_store: Any, user_api: Any, other_api: Any
) -> None:
    data = images.mp4_bytes(10_000)
    started = data_of(
        user_api.post(
            "/api/files/uploads",
            {
                "purpose": "capsule_media",
                "filename": "clip.mp4",
                "contentType": "video/mp4",
                "size": len(data),
                "sha256": sha256(b"something else"),
            },
        )
    )
    httpx.put(started["upload"]["url"], content=data, headers=started["upload"]["headers"])
    file_id = started["file"]["id"]
    assert len(bucket_keys(s3_store)) == 1

    strangers = other_api.post(f"/api/files/{file_id}/complete")
    response = user_api.post(f"/api/files/{file_id}/complete")

    assert (strangers.status_code, error_of(strangers)["code"]) == (404, "file_not_found")
    assert (response.status_code, error_of(response)["code"]) == (422, "checksum_mismatch")
    assert bucket_keys(s3_store) == []
    assert StoredFile.objects.get().status == "rejected"


def test_an_object_stored_with_another_content_type_is_rejected(
    s3_store: Any, user_api: Any
) -> None:
    # Real S3 refuses this PUT (the Content-Type is signed); moto does not check signatures,
    # which lets this test show that completion catches it anyway.
    data = images.mp4_bytes(10_000)
    started = data_of(
        user_api.post(
            "/api/files/uploads",
            {
                "purpose": "capsule_media",
                "filename": "clip.mp4",
                "contentType": "video/mp4",
                "size": len(data),
                "sha256": sha256(data),
            },
        )
    )
    httpx.put(started["upload"]["url"], content=data, headers={"Content-Type": "text/html"})

    response = user_api.post(f"/api/files/{started['file']['id']}/complete")

    assert (response.status_code, error_of(response)["code"]) == (422, "type_mismatch")
    assert bucket_keys(s3_store) == []


@pytest.mark.parametrize(
    ("data", "code"),
    [
        (b"", "file_empty"),
        (images.SVG_WITH_SCRIPT, "unsupported_file_type"),
        (images.png_with_html_appended(), "suspicious_file"),
        (images.png_bomb(), "image_too_large"),
    ],
    ids=["empty", "svg", "polyglot", "bomb"],
)
def test_refused_uploads_leave_the_bucket_empty(
    s3_store: Any, user_api: Any, data: bytes, code: str
) -> None:
    response = upload(user_api, data, filename="x.png", purpose="content_image")

    assert error_of(response)["code"] == code
    assert bucket_keys(s3_store) == []


def test_delete_removes_every_object(
    s3_store: Any, user_api: Any, django_capture_on_commit_callbacks: Any
) -> None:
    with django_capture_on_commit_callbacks(execute=True):
        file_id = data_of(upload(user_api, images.png_bytes(size=(600, 400))))["id"]
    assert len(bucket_keys(s3_store)) == 5

    with django_capture_on_commit_callbacks(execute=True):
        response = user_api.delete(f"/api/files/{file_id}")

    assert response.status_code == 204
    assert bucket_keys(s3_store) == []


def test_cleanup_removes_orphans_in_the_bucket(s3_store: Any, user_api: Any, settings: Any) -> None:
    settings.FILES_ORPHAN_GRACE_HOURS = 0
    kept = data_of(upload(user_api, images.mp4_bytes(), purpose="capsule_media"))
    orphan = f"private/capsule_media/{uuid.uuid4()}/original.mp4"
    s3_store.save(orphan, io.BytesIO(b"left behind"), content_type="video/mp4")

    report = files_cleanup(now=timezone.now() + timedelta(minutes=1))

    assert report.orphan_objects == 1
    assert bucket_keys(s3_store) == [f"private/capsule_media/{kept['id']}/original.mp4"]


def test_more_bytes_than_declared_are_refused_without_reading_them_back(
    s3_store: Any, user_api: Any
) -> None:
    # A presigned PUT does not cap the size; completion compares the object's size first.
    data = images.mp4_bytes(20_000)
    started = data_of(
        user_api.post(
            "/api/files/uploads",
            {
                "purpose": "capsule_media",
                "filename": "clip.mp4",
                "contentType": "video/mp4",
                "size": 10_000,
                "sha256": sha256(data[:10_000]),
            },
        )
    )
    httpx.put(started["upload"]["url"], content=data, headers=started["upload"]["headers"])

    response = user_api.post(f"/api/files/{started['file']['id']}/complete")

    assert (response.status_code, error_of(response)["code"]) == (422, "size_mismatch")
    assert bucket_keys(s3_store) == []
    assert StoredFile.objects.get().rejection_code == "size_mismatch"
