"""The daily cleanup: abandoned uploads, old rejections, unattached files, orphaned objects."""

from __future__ import annotations

import io
import os
import uuid
from datetime import timedelta
from typing import Any

import pytest
from django.core.management import call_command
from django.utils import timezone

from tessera.files import services
from tessera.files.models import StoredFile
from tessera.files.processing import files_cleanup
from tessera.files.purposes import Purpose
from tessera.files.storage import file_store
from tessera.files.tasks import cleanup, process_image
from tessera.files.tests import images
from tessera.files.tests.test_services import uploaded

DAY = timedelta(days=1)


def age(stored: StoredFile, by: timedelta) -> None:
    past = timezone.now() - by
    StoredFile.objects.filter(pk=stored.pk).update(created_at=past, updated_at=past)


def stray(key: str, *, old: bool) -> str:
    store = file_store()
    store.save(key, io.BytesIO(b"left behind"), content_type="image/jpeg")
    if old:
        stamp = (timezone.now() - 2 * DAY).timestamp()
        path = store.local_path(key)
        assert path is not None
        os.utime(path, (stamp, stamp))
    return key


@pytest.mark.django_db
def test_abandoned_direct_uploads_go_with_their_objects(user: Any, keys: Any) -> None:
    abandoned = services.file_direct_upload_start(
        owner=user,
        purpose=Purpose.CAPSULE_MEDIA,
        filename="a.mp4",
        content_type="video/mp4",
        size=4096,
        sha256="a" * 64,
    ).file
    fresh = services.file_direct_upload_start(
        owner=user,
        purpose=Purpose.CAPSULE_MEDIA,
        filename="b.mp4",
        content_type="video/mp4",
        size=4096,
        sha256="b" * 64,
    ).file
    file_store().save(abandoned.storage_key, io.BytesIO(b"x" * 10), content_type="video/mp4")
    StoredFile.objects.filter(pk=abandoned.pk).update(
        status="uploaded", upload_expires_at=timezone.now() - 2 * DAY
    )

    report = files_cleanup()

    assert report.abandoned_uploads == 1
    assert list(StoredFile.objects.values_list("pk", flat=True)) == [fresh.pk]
    assert keys() == []


@pytest.mark.django_db
def test_old_rejected_records_are_removed(user: Any) -> None:
    old, recent = uploaded(user), uploaded(user)
    StoredFile.objects.update(status="rejected", rejection_code="invalid_image")
    age(old, 8 * DAY)

    report = files_cleanup()

    assert report.rejected_records == 1
    assert list(StoredFile.objects.values_list("pk", flat=True)) == [recent.pk]


@pytest.mark.django_db
def test_orphan_objects_older_than_the_grace_period_are_removed(user: Any, keys: Any) -> None:
    kept = uploaded(user)
    process_image(file_id=str(kept.pk))
    for key in keys():
        stamp = (timezone.now() - 3 * DAY).timestamp()
        path = file_store().local_path(key)
        assert path is not None
        os.utime(path, (stamp, stamp))
    known = keys()
    old_orphan = stray(f"public/avatar/{uuid.uuid4()}/original.jpg", old=True)
    new_orphan = stray(f"private/capsule_media/{uuid.uuid4()}/original.mp4", old=False)
    stray_in_live_folder = stray(kept.storage_key.replace("original.jpg", "extra.jpg"), old=True)

    report = files_cleanup()

    assert report.orphan_objects == 1
    assert old_orphan not in keys()
    assert keys() == sorted([*known, new_orphan, stray_in_live_folder])


@pytest.mark.django_db
def test_files_stuck_in_processing_are_queued_again(user: Any) -> None:
    stuck = uploaded(user)
    age(stuck, timedelta(hours=2))

    report = files_cleanup()

    stuck.refresh_from_db()
    assert report.requeued == 1
    assert stuck.status == "ready"


def test_unattached_files_go_after_their_purposes_limit(
    poster_model: Any, user: Any, keys: Any
) -> None:
    covers = [uploaded(user, purpose=Purpose.EVENT_COVER) for _ in range(4)]
    on_poster, in_gallery, unattached, recent = covers
    export = services.file_store_generated(
        owner=user,
        purpose=Purpose.EXPORT,
        content=io.BytesIO(b"a,b\n"),
        filename="export.csv",
        content_type="text/csv",
    )
    poster = poster_model.objects.create(title="Launch", cover=on_poster)
    poster.gallery.add(in_gallery)
    for stored in (on_poster, in_gallery, unattached, export):
        age(stored, 2 * DAY)
    unattached_keys = [key for key in keys() if str(unattached.pk) in key]

    report = files_cleanup()

    assert report.unattached_files == 1
    assert set(StoredFile.objects.values_list("pk", flat=True)) == {
        on_poster.pk,
        in_gallery.pk,
        recent.pk,
        export.pk,
    }
    assert unattached_keys
    assert not set(unattached_keys) & set(keys())


@pytest.mark.django_db
def test_the_command_and_the_task_report_what_they_did(user: Any, keys: Any) -> None:
    stray(f"public/avatar/{uuid.uuid4()}/original.jpg", old=True)
    output = io.StringIO()

    call_command("files_cleanup", stdout=output)
    again = cleanup()

    assert output.getvalue().splitlines() == [
        "abandoned_uploads: 0",
        "rejected_records: 0",
        "unattached_files: 0",
        "orphan_objects: 1",
        "requeued: 0",
    ]
    assert again == {
        "abandoned_uploads": 0,
        "rejected_records": 0,
        "unattached_files": 0,
        "orphan_objects": 0,
        "requeued": 0,
    }
    assert keys() == []


def test_the_cleanup_runs_daily_from_beat(settings: Any) -> None:
    entry = settings.CELERY_BEAT_SCHEDULE["files-cleanup-daily"]
    assert entry["task"] == "files.cleanup"
    assert (entry["schedule"].hour, entry["schedule"].minute) == ({3}, {30})


def test_mp4_fixture_is_a_video() -> None:
    from tessera.files.sniffing import sniff

    assert sniff(images.mp4_bytes()) is not None
