"""Direct uploads on the local store: start, PUT the bytes to the link, complete."""

from __future__ import annotations

from datetime import timedelta
from typing import Any

import pytest
from django.test import Client
from django.utils import timezone

from tessera.files.models import StoredFile
from tessera.files.tests import images
from tessera.files.tests.helpers import data_of, error_of, path_of, sha256, streamed

pytestmark = pytest.mark.django_db

START_URL = "/api/files/uploads"


def start(client: Any, data: bytes, **overrides: Any) -> Any:
    payload = {
        "purpose": "capsule_media",
        "filename": "holiday.mp4",
        "contentType": "video/mp4",
        "size": len(data),
        "sha256": sha256(data),
        **overrides,
    }
    return client.post(START_URL, payload)


def put(url: str, data: bytes, content_type: str = "video/mp4") -> Any:
    return Client().generic("PUT", path_of(url), data, content_type=content_type)


def test_start_put_complete_makes_a_ready_file(user_api: Any, keys: Any) -> None:
    data = images.mp4_bytes(300_000)

    started = start(user_api, data)

    assert started.status_code == 201
    body = data_of(started)
    file_id = body["file"]["id"]
    assert body["file"]["status"] == "pending"
    assert body["file"]["uploadExpiresAt"] is not None
    assert body["upload"]["method"] == "PUT"
    assert body["upload"]["headers"] == {"Content-Type": "video/mp4"}
    assert body["upload"]["url"].startswith("http://testserver/files/uploads/")
    assert keys() == []

    sent = put(body["upload"]["url"], data)
    assert sent.status_code == 200
    assert sent["ETag"] == f'"{sha256(data)}"'
    assert StoredFile.objects.get().status == "uploaded"

    completed = user_api.post(f"/api/files/{file_id}/complete")

    assert completed.status_code == 200
    done = data_of(completed)
    assert (done["status"], done["contentType"], done["size"]) == ("ready", "video/mp4", len(data))
    assert done["uploadExpiresAt"] is None
    assert keys() == [f"private/capsule_media/{file_id}/original.mp4"]
    assert streamed(Client().get(path_of(done["url"]))) == data
    # Completing again changes nothing.
    again = user_api.post(f"/api/files/{file_id}/complete")
    assert (again.status_code, data_of(again)["status"]) == (200, "ready")


def test_a_direct_image_upload_is_processed_after_completion(
    user_api: Any, django_capture_on_commit_callbacks: Any, keys: Any
) -> None:
    data = images.jpeg_bytes(size=(2000, 1000), gps=True)
    body = data_of(
        start(user_api, data, purpose="event_cover", filename="cover.jpg", contentType="image/jpeg")
    )
    put(body["upload"]["url"], data, "image/jpeg")

    with django_capture_on_commit_callbacks(execute=True):
        completed = user_api.post(f"/api/files/{body['file']['id']}/complete")

    assert data_of(completed)["status"] == "processing"
    assert data_of(completed)["taskId"] is not None
    final = data_of(user_api.get(f"/api/files/{body['file']['id']}"))
    assert final["status"] == "ready"
    assert final["variants"]["medium"]["width"] == 1024
    assert len(keys()) == 5


def test_completion_for_someone_elses_upload_is_a_404(
    user_api: Any, other_api: Any, keys: Any
) -> None:
    data = images.mp4_bytes()
    body = data_of(start(user_api, data))
    put(body["upload"]["url"], data)

    response = other_api.post(f"/api/files/{body['file']['id']}/complete")

    assert (response.status_code, error_of(response)["code"]) == (404, "file_not_found")
    assert StoredFile.objects.get().status == "uploaded"
    assert len(keys()) == 1


@pytest.mark.parametrize(
    ("declared", "sent", "content_type", "code"),
    [
        ({"sha256": "0" * 64}, images.mp4_bytes(), "video/mp4", "checksum_mismatch"),
        ({"size": 10}, None, "video/mp4", "size_mismatch"),
        (
            {"contentType": "image/png", "filename": "a.png", "purpose": "avatar"},
            images.jpeg_bytes(),
            "image/png",
            "type_mismatch",
        ),
        ({}, images.SHELL_SCRIPT, "video/mp4", "unsupported_file_type"),
        (
            {"contentType": "image/png", "filename": "a.png", "purpose": "avatar"},
            images.png_with_html_appended(),
            "image/png",
            "suspicious_file",
        ),
    ],
    ids=["checksum", "size", "type", "script", "polyglot"],
)
def test_a_mismatch_rejects_the_file_and_removes_the_object(  # noqa: PLR0917 - pytest passes these by name
    user_api: Any,
    keys: Any,
    declared: dict[str, Any],
    sent: bytes | None,
    content_type: str,
    code: str,
) -> None:
    data = sent if sent is not None else images.mp4_bytes(2048)
    payload = {"size": len(data), "sha256": sha256(data), **declared}
    body = data_of(start(user_api, data, **payload))
    # A size mismatch is caught by the local link itself (413 past the declared size), so
    # send exactly the declared number of bytes there and let completion compare.
    put(body["upload"]["url"], data[: payload["size"]], content_type)
    if code == "size_mismatch":
        StoredFile.objects.filter(pk=body["file"]["id"]).update(size=len(data) + 1)

    response = user_api.post(f"/api/files/{body['file']['id']}/complete")

    assert response.status_code in (415, 422)
    assert error_of(response)["code"] == code
    assert keys() == []
    stored = StoredFile.objects.get()
    assert (stored.status, stored.rejection_code) == ("rejected", code)
    again = user_api.post(f"/api/files/{body['file']['id']}/complete")
    assert (again.status_code, error_of(again)["code"]) == (409, "file_rejected")


def test_completing_before_anything_arrived_is_409(user_api: Any) -> None:
    body = data_of(start(user_api, images.mp4_bytes()))

    response = user_api.post(f"/api/files/{body['file']['id']}/complete")

    assert (response.status_code, error_of(response)["code"]) == (409, "upload_missing")
    assert StoredFile.objects.get().status == "pending"


def test_an_expired_upload_cannot_be_sent_or_completed(user_api: Any, keys: Any) -> None:
    data = images.mp4_bytes()
    body = data_of(start(user_api, data))
    put(body["upload"]["url"], data)
    StoredFile.objects.update(upload_expires_at=timezone.now() - timedelta(seconds=1))

    late_put = put(body["upload"]["url"], data)
    late_complete = user_api.post(f"/api/files/{body['file']['id']}/complete")

    assert (late_put.status_code, error_of(late_put)["code"]) == (410, "upload_expired")
    assert (late_complete.status_code, error_of(late_complete)["code"]) == (410, "upload_expired")
    assert keys() == []
    assert StoredFile.objects.get().status == "rejected"


def test_the_upload_link_refuses_tampering_other_types_and_extra_bytes(
    user_api: Any, keys: Any
) -> None:
    data = images.mp4_bytes()
    body = data_of(start(user_api, data))
    url = body["upload"]["url"]

    tampered = put(url[:-2] + "xx", data)
    wrong_type = put(url, data, "text/html")
    too_long = put(url, data + b"more")
    get = Client().get(path_of(url))

    assert (tampered.status_code, error_of(tampered)["code"]) == (403, "link_invalid")
    assert (wrong_type.status_code, error_of(wrong_type)["code"]) == (422, "type_mismatch")
    assert (too_long.status_code, error_of(too_long)["code"]) == (413, "file_too_large")
    assert get.status_code == 405
    assert keys() == []


@pytest.mark.parametrize(
    ("overrides", "status", "code"),
    [
        ({"size": 600 * 1024 * 1024}, 413, "file_too_large"),
        ({"contentType": "image/svg+xml"}, 415, "unsupported_file_type"),
        ({"contentType": "text/html"}, 415, "unsupported_file_type"),
        ({"filename": "../x.mp4"}, 422, "invalid_file_name"),
        ({"filename": "x" * 500}, 422, "invalid_file_name"),
        ({"sha256": "not-a-checksum"}, 422, "validation_error"),
        ({"size": 0}, 422, "validation_error"),
        ({"purpose": "export"}, 422, "validation_error"),
        ({"visibility": "public"}, 422, "invalid_visibility"),
    ],
    ids=["too-large", "svg", "html", "path", "long-name", "checksum", "empty", "export", "public"],
)
def test_a_bad_declaration_is_refused(
    user_api: Any, keys: Any, overrides: dict[str, Any], status: int, code: str
) -> None:
    response = start(user_api, images.mp4_bytes(), **overrides)

    assert (response.status_code, error_of(response)["code"]) == (status, code)
    assert StoredFile.objects.count() == 0
    assert keys() == []
