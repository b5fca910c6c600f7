"""Fixtures for the files tests: a local store in a temporary folder (every test), and a real
S3 API (moto in server mode on 127.0.0.1) for the `s3` tests."""

from __future__ import annotations

import json
import socket
import uuid
from collections.abc import Iterator
from typing import Any

import pytest

from tessera.files.storage import FileStore, file_store
from tessera.files.tests import images


@pytest.fixture(autouse=True)
def local_store(settings: Any, tmp_path: Any) -> Iterator[FileStore]:
    settings.FILES_STORAGE_BACKEND = "local"
    settings.MEDIA_ROOT = tmp_path / "media"
    settings.FILES_PUBLIC_BASE_URL = ""
    settings.RATE_LIMIT_ENABLED = False
    file_store.cache_clear()
    yield file_store()
    file_store.cache_clear()


def stored_keys() -> list[str]:
    """Every object in the configured store, under both visibilities."""
    store = file_store()
    return sorted(obj.key for prefix in ("public/", "private/") for obj in store.list(prefix))


@pytest.fixture
def keys() -> Any:
    return stored_keys


def _free_port() -> int:
    with socket.socket() as probe:
        probe.bind(("127.0.0.1", 0))
        return int(probe.getsockname()[1])


@pytest.fixture(scope="session")
def s3_endpoint() -> Iterator[str]:
    """moto's S3 server, pure Python, always available: these tests never skip."""
    from moto.server import ThreadedMotoServer

    server = ThreadedMotoServer(ip_address="127.0.0.1", port=_free_port(), verbose=False)
    server.start()
    host, port = server.get_host_and_port()
    yield f"http://{host}:{port}"
    server.stop()


@pytest.fixture
def s3_store(settings: Any, s3_endpoint: str, monkeypatch: Any) -> Iterator[FileStore]:
    import boto3

    bucket = f"tessera-test-{uuid.uuid4().hex[:12]}"
    monkeypatch.setenv("AWS_ACCESS_KEY_ID", "testing")
    monkeypatch.setenv("AWS_SECRET_ACCESS_KEY", "testing")
    settings.AWS_ACCESS_KEY_ID = "testing"
    settings.AWS_SECRET_ACCESS_KEY = "testing"
    settings.AWS_S3_REGION_NAME = "us-east-1"
    settings.AWS_S3_ENDPOINT_URL = s3_endpoint
    settings.AWS_S3_ADDRESSING_STYLE = "path"
    settings.AWS_STORAGE_BUCKET_NAME = bucket
    settings.FILES_STORAGE_BACKEND = "s3"
    client = boto3.client(
        "s3",
        endpoint_url=s3_endpoint,
        region_name="us-east-1",
        aws_access_key_id="testing",
        aws_secret_access_key="testing",
    )
    client.create_bucket(Bucket=bucket)
    # As a deployment would: public/ readable by anyone (or through the CDN), the rest not.
    client.put_bucket_policy(
        Bucket=bucket,
        Policy=json.dumps(
            {
                "Version": "2012-10-17",
                "Statement": [
                    {
                        "Effect": "Allow",
                        "Principal": "*",
                        "Action": "s3:GetObject",
                        "Resource": f"arn:aws:s3:::{bucket}/public/*",
                    }
                ],
            }
        ),
    )
    file_store.cache_clear()
    yield file_store()
    file_store.cache_clear()


@pytest.fixture
def jpeg_with_gps() -> bytes:
    return images.jpeg_bytes(size=(1600, 1200), orientation=6, gps=True, comment=b"hello")


@pytest.fixture
def small_png() -> bytes:
    return images.png_bytes(size=(300, 200))


@pytest.fixture
def poster_model(transactional_db: Any, django_db_serialized_rollback: Any) -> Iterator[Any]:
    """A model of another app, made for the test: one StoredFileField and one many-to-many
    relation to files, as a product app would declare them."""
    from django.apps import apps
    from django.db import connection, models

    from tessera.files.fields import StoredFileField
    from tessera.files.purposes import Purpose

    class Poster(models.Model):
        title = models.CharField(max_length=50, default="")
        cover = StoredFileField(purpose=Purpose.EVENT_COVER)
        gallery = models.ManyToManyField("files.StoredFile", related_name="+", blank=True)

        class Meta:
            app_label = "files"

        def __str__(self) -> str:
            return self.title

    with connection.schema_editor() as editor:
        editor.create_model(Poster)
    try:
        yield Poster
    finally:
        with connection.schema_editor() as editor:
            editor.delete_model(Poster)
        for name in ("poster", "poster_gallery"):
            apps.all_models["files"].pop(name, None)
        apps.clear_cache()
