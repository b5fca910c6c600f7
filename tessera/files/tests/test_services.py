"""Services, selectors and the processing task, called as other apps and the worker call them."""

from __future__ import annotations

import io
from typing import Any

import pytest
from django.core.exceptions import ValidationError
from django.test import Client

from tessera.files import processing, selectors, services
from tessera.files.errors import (
    FileNotAttachableError,
    FilePurposeMismatchError,
    StoredFileNotFoundError,
    UnsupportedFileTypeError,
)
from tessera.files.models import FileVariant, StoredFile
from tessera.files.purposes import POLICIES, Purpose
from tessera.files.tasks import process_image
from tessera.files.tests import images
from tessera.files.tests.helpers import streamed
from tessera.files.uploads import ReceivedFile, StreamAccumulator

pytestmark = pytest.mark.django_db


def received(data: bytes, name: str = "photo.jpg") -> ReceivedFile:
    accumulator = StreamAccumulator(name)
    accumulator.write(data)
    return accumulator.finish()


def uploaded(owner: Any, data: bytes | None = None, **kwargs: Any) -> StoredFile:
    kwargs.setdefault("purpose", Purpose.AVATAR)
    upload = received(data or images.jpeg_bytes(size=(800, 600)))
    try:
        return services.file_upload(owner=owner, received=upload, **kwargs)
    finally:
        upload.close()


def test_every_purpose_has_a_policy_and_clients_cannot_upload_exports() -> None:
    assert set(POLICIES) == set(Purpose.values)
    assert POLICIES[Purpose.EXPORT].client_upload is False
    assert all(policy.max_bytes > 0 for policy in POLICIES.values())


# --- processing ----------------------------------------------------------------------------


def test_processing_twice_does_the_work_once(user: Any, keys: Any) -> None:
    stored = uploaded(user)

    first = process_image(file_id=str(stored.pk))
    after_first = list(FileVariant.objects.values_list("name", "storage_key", "size"))
    stored.refresh_from_db()
    sha_after_first = stored.sha256
    second = process_image(file_id=str(stored.pk))

    assert (first, second) == ("ready", "ready")
    assert list(FileVariant.objects.values_list("name", "storage_key", "size")) == after_first
    stored.refresh_from_db()
    assert stored.sha256 == sha_after_first
    assert stored.ready_at is not None
    assert len(keys()) == 5


def test_processing_a_deleted_file_is_a_no_op(user: Any) -> None:
    stored = uploaded(user)
    file_id = str(stored.pk)
    StoredFile.objects.filter(pk=file_id).delete()

    assert process_image(file_id=file_id) == "missing"


def test_a_file_deleted_while_processing_leaves_no_objects(
    user: Any, keys: Any, monkeypatch: Any
) -> None:
    stored = uploaded(user)
    real = processing.image_process

    def delete_midway(path: str, **kwargs: Any) -> Any:
        result = real(path, **kwargs)
        StoredFile.objects.filter(pk=stored.pk).delete()
        return result

    monkeypatch.setattr(processing, "image_process", delete_midway)

    assert process_image(file_id=str(stored.pk)) == "missing"
    assert keys() == []


def test_processing_a_cmyk_jpeg_yields_rgb_variants(user: Any) -> None:
    from PIL import Image

    buffer = io.BytesIO()
    Image.new("CMYK", (640, 480), (0, 128, 255, 0)).save(buffer, "JPEG")
    stored = uploaded(user, buffer.getvalue())

    assert process_image(file_id=str(stored.pk)) == "ready"
    medium = FileVariant.objects.get(file=stored, name="medium")
    assert (medium.width, medium.height, medium.content_type) == (640, 480, "image/jpeg")


# --- files other apps attach ----------------------------------------------------------------


def test_attachable_file_rules(user: Any, other_user: Any) -> None:
    avatar = uploaded(user)
    pending = services.file_direct_upload_start(
        owner=user,
        purpose=Purpose.AVATAR,
        filename="a.png",
        content_type="image/png",
        size=10,
        sha256="a" * 64,
    ).file

    found = selectors.file_get_attachable(owner=user, file_id=avatar.pk, purpose=Purpose.AVATAR)

    assert found == avatar
    with pytest.raises(StoredFileNotFoundError):
        selectors.file_get_attachable(owner=other_user, file_id=avatar.pk, purpose=Purpose.AVATAR)
    with pytest.raises(FilePurposeMismatchError):
        selectors.file_get_attachable(owner=user, file_id=avatar.pk, purpose=Purpose.EVENT_COVER)
    with pytest.raises(FileNotAttachableError):
        selectors.file_get_attachable(owner=user, file_id=pending.pk, purpose=Purpose.AVATAR)


def test_file_ref_gives_links_to_the_owner_or_when_granted(user: Any, other_user: Any) -> None:
    private = uploaded(user, visibility="private")
    process_image(file_id=str(private.pk))
    private.refresh_from_db()

    as_owner = selectors.file_ref(private, viewer=user)
    as_stranger = selectors.file_ref(private, viewer=other_user)
    granted = selectors.file_ref(private, viewer=other_user, grant_private=True)

    assert as_owner is not None
    assert as_stranger is not None
    assert granted is not None
    assert as_owner.url is not None
    assert as_owner.url.startswith("/files/private/")
    assert as_owner.variants.thumbnail is not None
    assert (as_stranger.url, as_stranger.variants.thumbnail) == (None, None)
    assert (as_stranger.id, as_stranger.status) == (private.pk, "ready")
    assert granted.url is not None
    assert selectors.file_ref(None, viewer=user) is None


def test_file_ref_of_a_public_file_has_links_for_anyone(user: Any) -> None:
    public = uploaded(user)
    process_image(file_id=str(public.pk))
    public.refresh_from_db()

    ref = selectors.file_ref(public)

    assert ref is not None
    assert ref.url == f"/media/public/avatar/{public.pk}/original.jpg"
    assert ref.url_expires_at is None
    assert ref.variants.medium_webp is not None
    assert ref.variants.medium_webp.url == f"/media/public/avatar/{public.pk}/medium.webp"


def test_a_cdn_base_url_fronts_public_links(user: Any, settings: Any) -> None:
    settings.FILES_PUBLIC_BASE_URL = "https://cdn.example.com/"
    public = uploaded(user)
    process_image(file_id=str(public.pk))
    public.refresh_from_db()

    ref = selectors.file_ref(public)

    assert ref is not None
    assert ref.url == f"https://cdn.example.com/public/avatar/{public.pk}/original.jpg"


# --- files the server writes -----------------------------------------------------------------


def test_generated_export_is_private_ready_and_downloads_as_attachment(
    user: Any, other_user: Any, keys: Any
) -> None:
    content = io.BytesIO(b"id,name\n1,Ada\n")

    export = services.file_store_generated(
        owner=user,
        purpose=Purpose.EXPORT,
        content=content,
        filename="my data.csv",
        content_type="text/csv",
    )

    assert (export.status, export.visibility, export.size) == ("ready", "private", 14)
    assert keys() == [f"private/export/{export.pk}/original.csv"]
    ref = selectors.file_ref(export, viewer=user)
    assert ref is not None
    assert ref.url is not None
    download = Client().get(ref.url)
    assert download["Content-Disposition"] == 'attachment; filename="my data.csv"'
    assert download["Content-Type"] == "text/csv"
    assert streamed(download) == b"id,name\n1,Ada\n"


def test_generated_file_of_a_type_the_purpose_refuses(user: Any, keys: Any) -> None:
    with pytest.raises(UnsupportedFileTypeError):
        services.file_store_generated(
            owner=user,
            purpose=Purpose.EXPORT,
            content=io.BytesIO(b"<html></html>"),
            filename="x.html",
            content_type="text/html",
        )
    assert keys() == []


# --- the model field ------------------------------------------------------------------------


def test_stored_file_field_refuses_a_file_of_another_purpose(poster_model: Any, user: Any) -> None:
    avatar = uploaded(user)
    cover = uploaded(user, purpose=Purpose.EVENT_COVER)

    poster = poster_model(title="Launch", cover=avatar)
    with pytest.raises(ValidationError) as refused:
        poster.full_clean()
    poster.cover = cover
    poster.full_clean()
    poster.save()

    assert "cover" in refused.value.message_dict
    cover.delete()
    poster.refresh_from_db()
    assert poster.cover is None
