"""`file_ready`: sent once an image's processing has committed, for the apps that show it."""

from __future__ import annotations

from typing import Any

from tessera.files.models import StoredFile
from tessera.files.signals import file_ready
from tessera.files.tests.helpers import data_of, upload


def test_file_ready_is_sent_after_processing_commits(
    user_api: Any, small_png: bytes, django_capture_on_commit_callbacks: Any
) -> None:
    received: list[dict[str, Any]] = []

    def listener(sender: Any, **kwargs: Any) -> None:
        received.append({"sender": sender, **kwargs})

    def failing(sender: Any, **kwargs: Any) -> None:
        raise RuntimeError("a receiver's failure")

    file_ready.connect(listener, dispatch_uid="test-listener")
    file_ready.connect(failing, dispatch_uid="test-failing")
    try:
        with django_capture_on_commit_callbacks(execute=True):
            response = upload(user_api, small_png, filename="a.png", purpose="avatar")
            file_id = data_of(response)["id"]
            assert received == []  # not before the processing has committed
    finally:
        file_ready.disconnect(dispatch_uid="test-listener")
        file_ready.disconnect(dispatch_uid="test-failing")

    stored = StoredFile.objects.get(pk=file_id)
    assert stored.status == StoredFile.Status.READY
    assert received == [
        {"sender": StoredFile, "signal": file_ready, "file_id": stored.pk, "purpose": "avatar"}
    ]
