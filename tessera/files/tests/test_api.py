"""The files API through the real URL routing and middleware, on the local store."""

from __future__ import annotations

from typing import Any

import pytest
from django.test import Client

from tessera.files.models import FileVariant, StoredFile
from tessera.files.tests import images
from tessera.files.tests.helpers import (
    UPLOAD_URL,
    data_of,
    error_of,
    image_of,
    multipart,
    path_of,
    streamed,
    upload,
)
from tessera.tasks.models import TaskRecord

pytestmark = pytest.mark.django_db


def upload_and_process(client: Any, data: bytes, capture: Any, **kwargs: Any) -> dict[str, Any]:
    """Upload, then let the on-commit hook run the (eager) processing task."""
    with capture(execute=True):
        response = upload(client, data, **kwargs)
    assert response.status_code == 201, response.content
    return data_of(client.get(f"{UPLOAD_URL}/{data_of(response)['id']}"))


# --- the avatar path of the "done when" ---------------------------------------------


def test_avatar_upload_replies_processing_with_a_task_id(
    user: Any, user_api: Any, jpeg_with_gps: bytes, keys: Any
) -> None:
    response = upload(user_api, jpeg_with_gps, filename="Me at the beach.jpg")

    assert response.status_code == 201
    body = data_of(response)
    stored = StoredFile.objects.get()
    record = TaskRecord.objects.get()
    assert body == {
        "id": str(stored.pk),
        "purpose": "avatar",
        "status": "processing",
        "contentType": "image/jpeg",
        "width": 1600,
        "height": 1200,
        "url": None,
        "urlExpiresAt": None,
        "variants": {
            "thumbnail": None,
            "medium": None,
            "thumbnailWebp": None,
            "mediumWebp": None,
        },
        "visibility": "public",
        "originalName": "Me at the beach.jpg",
        "size": len(jpeg_with_gps),
        "sha256": stored.sha256,
        "taskId": str(record.pk),
        "rejectionCode": None,
        "rejectionMessage": None,
        "uploadExpiresAt": None,
        "createdAt": body["createdAt"],
        "updatedAt": body["updatedAt"],
    }
    assert (record.name, record.owner_id) == ("files.process_image", user.pk)
    assert keys() == [f"public/avatar/{stored.pk}/original.jpg"]


def test_user_sees_the_avatar_thumbnail_once_processed(
    user_api: Any, jpeg_with_gps: bytes, django_capture_on_commit_callbacks: Any, keys: Any
) -> None:
    body = upload_and_process(user_api, jpeg_with_gps, django_capture_on_commit_callbacks)

    assert body["status"] == "ready"
    assert body["taskId"] is None
    # Orientation 6 (rotate 90°) is applied: 1600x1200 becomes 1200x1600.
    assert (body["width"], body["height"]) == (1200, 1600)
    variants = body["variants"]
    assert {name: (v["width"], v["height"], v["contentType"]) for name, v in variants.items()} == {
        "thumbnail": (192, 256, "image/jpeg"),
        "medium": (768, 1024, "image/jpeg"),
        "thumbnailWebp": (192, 256, "image/webp"),
        "mediumWebp": (768, 1024, "image/webp"),
    }
    file_id = body["id"]
    assert variants["thumbnail"]["url"] == (
        f"http://testserver/media/public/avatar/{file_id}/thumbnail.jpg"
    )
    thumbnail = Client().get(path_of(variants["thumbnail"]["url"]))
    assert thumbnail.status_code == 200
    assert thumbnail["Content-Type"] == "image/jpeg"
    assert thumbnail["X-Content-Type-Options"] == "nosniff"
    picture = image_of(streamed(thumbnail))
    assert (picture.format, picture.size) == ("JPEG", (192, 256))
    assert keys() == sorted(
        f"public/avatar/{file_id}/{name}"
        for name in (
            "original.jpg",
            "thumbnail.jpg",
            "medium.jpg",
            "thumbnail.webp",
            "medium.webp",
        )
    )


def test_processing_strips_exif_gps_and_comments_everywhere(
    user_api: Any, jpeg_with_gps: bytes, django_capture_on_commit_callbacks: Any
) -> None:
    body = upload_and_process(user_api, jpeg_with_gps, django_capture_on_commit_callbacks)

    urls = [body["url"], *(variant["url"] for variant in body["variants"].values())]
    for url in urls:
        picture = image_of(streamed(Client().get(path_of(url))))
        assert dict(picture.getexif()) == {}, url
        assert "exif" not in picture.info, url
        assert "comment" not in picture.info, url
        assert "xmp" not in picture.info, url
    stored = StoredFile.objects.get()
    original = image_of(streamed(Client().get(path_of(body["url"]))))
    assert original.size == (1200, 1600)
    assert stored.sha256 == body["sha256"]
    assert stored.sha256 != images.jpeg_bytes()  # re-encoded: describes the stored object


def test_png_with_alpha_keeps_transparency_in_png_variants(
    user_api: Any, django_capture_on_commit_callbacks: Any
) -> None:
    body = upload_and_process(
        user_api,
        images.png_bytes(size=(2048, 1024), alpha=True),
        django_capture_on_commit_callbacks,
        filename="logo.png",
        purpose="content_image",
    )

    assert body["contentType"] == "image/png"
    medium = body["variants"]["medium"]
    assert (medium["contentType"], medium["width"], medium["height"]) == ("image/png", 1024, 512)
    picture = image_of(streamed(Client().get(path_of(medium["url"]))))
    assert picture.mode == "RGBA"


def test_a_small_image_is_not_enlarged(
    user_api: Any, django_capture_on_commit_callbacks: Any
) -> None:
    body = upload_and_process(
        user_api, images.webp_bytes(size=(120, 80)), django_capture_on_commit_callbacks
    )

    assert body["contentType"] == "image/webp"
    assert {n: (v["width"], v["height"]) for n, v in body["variants"].items()} == {
        "thumbnail": (120, 80),
        "medium": (120, 80),
        "thumbnailWebp": (120, 80),
        "mediumWebp": (120, 80),
    }


# --- private files ------------------------------------------------------------------------


def test_private_files_are_served_by_signed_links_with_safe_headers(
    user_api: Any, django_capture_on_commit_callbacks: Any
) -> None:
    body = upload_and_process(
        user_api,
        images.jpeg_bytes(size=(300, 200)),
        django_capture_on_commit_callbacks,
        filename="scan 1.jpg",
        visibility="private",
    )

    assert body["visibility"] == "private"
    assert body["urlExpiresAt"] is not None
    assert body["url"].startswith("http://testserver/files/private/")
    anonymous = Client().get(path_of(body["url"]))
    assert anonymous.status_code == 200
    assert anonymous["Content-Type"] == "image/jpeg"
    assert anonymous["Content-Disposition"] == 'inline; filename="scan 1.jpg"'
    assert anonymous["Cache-Control"] == "private, max-age=300"
    assert anonymous["X-Content-Type-Options"] == "nosniff"
    assert "sandbox" in anonymous["Content-Security-Policy"]
    file_id = body["id"]
    # The private object is not reachable at MEDIA_URL.
    direct = Client().get(f"/media/private/avatar/{file_id}/original.jpg")
    assert direct.status_code == 404


def test_a_tampered_or_expired_private_link_is_refused(
    user_api: Any, django_capture_on_commit_callbacks: Any, settings: Any
) -> None:
    body = upload_and_process(
        user_api,
        images.jpeg_bytes(),
        django_capture_on_commit_callbacks,
        visibility="private",
    )
    path = path_of(body["url"])

    tampered = Client().get(path[:-3] + "abc")
    settings.FILES_PRIVATE_URL_TTL_SECONDS = -1
    expired = Client().get(path)

    assert (tampered.status_code, error_of(tampered)["code"]) == (403, "link_invalid")
    assert (expired.status_code, error_of(expired)["code"]) == (403, "link_invalid")


def test_a_public_file_still_processing_is_not_served(user_api: Any, keys: Any) -> None:
    response = upload(user_api, images.jpeg_bytes(gps=True))

    [original] = keys()
    assert data_of(response)["status"] == "processing"
    assert Client().get(f"/media/{original}").status_code == 404


# --- reading, listing, deleting, ownership ------------------------------------------------


def test_another_users_file_is_a_404_everywhere(user_api: Any, other_api: Any, keys: Any) -> None:
    file_id = data_of(upload(user_api, images.jpeg_bytes()))["id"]

    responses = [
        other_api.get(f"{UPLOAD_URL}/{file_id}"),
        other_api.delete(f"{UPLOAD_URL}/{file_id}"),
        other_api.post(f"{UPLOAD_URL}/{file_id}/complete"),
    ]

    assert [(r.status_code, error_of(r)["code"]) for r in responses] == [
        (404, "file_not_found")
    ] * 3
    assert len(keys()) == 1
    assert data_of(other_api.get(UPLOAD_URL))["count"] == 0


def test_files_need_a_token(api: Any) -> None:
    response = upload(api, images.jpeg_bytes())

    assert (response.status_code, error_of(response)["code"]) == (401, "not_authenticated")


def test_list_filters_by_purpose_and_status(user_api: Any) -> None:
    upload(user_api, images.jpeg_bytes(), purpose="avatar")
    upload(user_api, images.mp4_bytes(), purpose="capsule_media", filename="clip.mp4")

    every = data_of(user_api.get(UPLOAD_URL))
    media = data_of(user_api.get(UPLOAD_URL, {"purpose": "capsule_media"}))
    ready = data_of(user_api.get(UPLOAD_URL, {"status": "ready"}))

    assert every["count"] == 2
    assert [item["purpose"] for item in every["items"]] == ["capsule_media", "avatar"]
    assert [item["originalName"] for item in media["items"]] == ["clip.mp4"]
    assert [item["contentType"] for item in ready["items"]] == ["video/mp4"]


def test_a_video_is_ready_at_once_and_private(user_api: Any, keys: Any) -> None:
    data = images.mp4_bytes(50_000)

    response = upload(user_api, data, purpose="capsule_media", filename="clip.mp4")

    body = data_of(response)
    assert response.status_code == 201
    assert (body["status"], body["contentType"], body["visibility"]) == (
        "ready",
        "video/mp4",
        "private",
    )
    assert body["taskId"] is None
    download = Client().get(path_of(body["url"]))
    assert streamed(download) == data
    assert download["Content-Disposition"] == 'inline; filename="clip.mp4"'
    assert keys() == [f"private/capsule_media/{body['id']}/original.mp4"]


def test_delete_removes_the_record_and_every_stored_object(
    user_api: Any, django_capture_on_commit_callbacks: Any, keys: Any
) -> None:
    body = upload_and_process(user_api, images.jpeg_bytes(), django_capture_on_commit_callbacks)
    assert len(keys()) == 5

    with django_capture_on_commit_callbacks(execute=True):
        response = user_api.delete(f"{UPLOAD_URL}/{body['id']}")

    assert response.status_code == 204
    assert keys() == []
    assert StoredFile.objects.count() == 0
    assert FileVariant.objects.count() == 0
    assert user_api.get(f"{UPLOAD_URL}/{body['id']}").status_code == 404


# --- bad input: each a clear 4xx, nothing stored ------------------------------------------


@pytest.mark.parametrize(
    ("data", "filename", "purpose", "status", "code"),
    [
        (b"", "empty.png", "avatar", 422, "file_empty"),
        (images.SHELL_SCRIPT, "cat.png", "avatar", 415, "unsupported_file_type"),
        (images.HTML_PAGE, "page.png", "avatar", 415, "unsupported_file_type"),
        (images.SVG_WITH_SCRIPT, "logo.svg", "content_image", 415, "unsupported_file_type"),
        (images.mp4_bytes(), "clip.jpg", "avatar", 415, "unsupported_file_type"),
        (images.png_with_html_appended(), "poly.png", "avatar", 422, "suspicious_file"),
        (images.jpeg_with_script_comment(), "poly.jpg", "avatar", 422, "suspicious_file"),
        (images.png_with_zip_appended(), "gifar.png", "avatar", 422, "suspicious_file"),
        (images.png_bomb(), "bomb.png", "content_image", 422, "image_too_large"),
        # 8000x6000 = 48 MP: fine for a content image (60 MP), too many for an avatar (40 MP).
        (images.png_claiming_size(8000, 6000), "big.png", "avatar", 422, "image_too_large"),
        (b"\x89PNG\r\n\x1a\n" + b"\x00" * 200, "broken.png", "avatar", 422, "invalid_image"),
        (images.jpeg_bytes(), "../../etc/passwd.jpg", "avatar", 422, "invalid_file_name"),
        (images.jpeg_bytes(), "C:\\Users\\me\\a.jpg", "avatar", 422, "invalid_file_name"),
        (images.jpeg_bytes(), "bell\x07.jpg", "avatar", 422, "invalid_file_name"),
        (images.jpeg_bytes(), "cute\u202egpj.exe", "avatar", 422, "invalid_file_name"),
        (images.jpeg_bytes(), "a" * 496 + ".jpg", "avatar", 422, "invalid_file_name"),
        (images.jpeg_bytes(), None, "avatar", 422, "file_missing"),
    ],
    ids=[
        "empty",
        "script-named-png",
        "html",
        "svg-with-script",
        "video-as-avatar",
        "png-html-polyglot",
        "jpeg-script-comment",
        "png-zip-polyglot",
        "decompression-bomb",
        "over-pixel-cap",
        "corrupt-png",
        "path-parts",
        "windows-path",
        "control-character",
        "bidi-override",
        "500-characters",
        "no-file-name",
    ],
)
def test_bad_uploads_are_refused_and_leave_nothing_behind(  # noqa: PLR0917 - pytest passes these by name
    user_api: Any,
    keys: Any,
    data: bytes,
    filename: str | None,
    purpose: str,
    status: int,
    code: str,
) -> None:
    response = upload(user_api, data, filename=filename, purpose=purpose)

    assert response.status_code == status, response.content
    error = error_of(response)
    assert error["code"] == code
    assert error["message"]
    assert keys() == []
    assert StoredFile.objects.count() == 0
    assert TaskRecord.objects.count() == 0


def test_a_body_over_the_limit_is_refused_before_it_is_read(user_api: Any, keys: Any) -> None:
    body, content_type = multipart("big.mp4", images.mp4_bytes(1024))

    # The declared length is 600 MB; the test client's payload raises if anything reads
    # past the 1 KB actually there, so a 413 here means nothing was read.
    response = user_api.generic(
        "POST",
        f"{UPLOAD_URL}?purpose=capsule_media",
        body,
        content_type=content_type,
        CONTENT_LENGTH=str(600 * 1024 * 1024),
    )

    assert response.status_code == 413
    error = error_of(response)
    assert (error["code"], error["maxBytes"]) == ("file_too_large", 500 * 1024 * 1024)
    assert keys() == []


def test_a_file_growing_past_the_limit_stops_at_that_chunk(
    user_api: Any, keys: Any, monkeypatch: Any
) -> None:
    from dataclasses import replace

    from tessera.files import purposes

    monkeypatch.setitem(
        purposes.POLICIES, "avatar", replace(purposes.POLICIES["avatar"], max_bytes=10_000)
    )

    # 40 KB: under the limit plus multipart overhead, so it passes the Content-Length check
    # and is stopped while streaming.
    response = upload(user_api, images.jpeg_bytes(size=(400, 300), quality=95) * 2)

    assert response.status_code == 413
    assert error_of(response)["code"] == "file_too_large"
    assert keys() == []


def test_an_image_over_the_purpose_size_limit_is_413(
    user_api: Any, keys: Any, monkeypatch: Any
) -> None:
    from dataclasses import replace

    from tessera.files import purposes

    monkeypatch.setitem(
        purposes.POLICIES, "avatar", replace(purposes.POLICIES["avatar"], max_bytes=1000)
    )

    response = upload(user_api, images.jpeg_bytes(size=(200, 200)))

    assert (response.status_code, error_of(response)["code"]) == (413, "file_too_large")
    assert keys() == []


def test_a_body_that_is_not_multipart_is_415(user_api: Any) -> None:
    response = user_api.post(f"{UPLOAD_URL}?purpose=avatar", {"file": "x"})

    assert (response.status_code, error_of(response)["code"]) == (415, "unsupported_media_type")


def test_a_malformed_multipart_body_is_400(user_api: Any, keys: Any) -> None:
    response = user_api.generic(
        "POST",
        f"{UPLOAD_URL}?purpose=avatar",
        b"--nope\r\nthis is not multipart",
        content_type="multipart/form-data",
    )

    assert (response.status_code, error_of(response)["code"]) == (400, "malformed_upload")
    assert keys() == []


def test_a_purpose_clients_cannot_use_is_422(user_api: Any) -> None:
    response = upload(user_api, images.jpeg_bytes(), purpose="export")

    assert (response.status_code, error_of(response)["code"]) == (
        422,
        "invalid_query_parameter",
    )


def test_a_visibility_the_purpose_does_not_allow_is_422(user_api: Any, keys: Any) -> None:
    response = upload(user_api, images.mp4_bytes(), purpose="capsule_media", visibility="public")

    assert (response.status_code, error_of(response)["code"]) == (422, "invalid_visibility")
    assert keys() == []


def test_the_part_content_type_and_extension_are_ignored(user_api: Any) -> None:
    body, content_type = multipart("notes.txt", images.png_bytes(), part_type="text/html")

    response = user_api.generic(
        "POST", f"{UPLOAD_URL}?purpose=avatar", body, content_type=content_type
    )

    assert response.status_code == 201
    assert data_of(response)["contentType"] == "image/png"
    assert StoredFile.objects.get().storage_key.endswith("/original.png")


def test_a_corrupt_image_that_passes_the_header_check_is_rejected_by_processing(
    user_api: Any, django_capture_on_commit_callbacks: Any, keys: Any
) -> None:
    body = upload_and_process(user_api, images.truncated_jpeg(), django_capture_on_commit_callbacks)

    assert body["status"] == "rejected"
    assert body["rejectionCode"] == "invalid_image"
    assert body["url"] is None
    assert keys() == []
