"""Migrations 0002/0003 on a database that already has images: the old ImageField files become
public stored files (history included), and going back restores the paths."""

from __future__ import annotations

import io
from typing import Any

import pytest
from django.core.files.base import ContentFile
from django.core.files.storage import default_storage
from django.db import connection
from django.db.migrations.executor import MigrationExecutor
from PIL import Image

pytestmark = pytest.mark.django_db(transaction=True, serialized_rollback=True)

BEFORE = [("content", "0001_initial")]
AFTER = [("content", "0003_drop_legacy_image_paths")]


def _image(image_format: str) -> bytes:
    buffer = io.BytesIO()
    Image.new("RGB", (64, 32), "navy").save(buffer, format=image_format)
    return buffer.getvalue()


def _migrate(targets: list[tuple[str, str]]) -> Any:
    executor = MigrationExecutor(connection)
    executor.loader.build_graph()
    executor.migrate(targets)
    return MigrationExecutor(connection).loader.project_state(targets).apps


def test_old_images_become_stored_files_and_back() -> None:
    old = _migrate(BEFORE)
    hero_path = default_storage.save("content/2026/01/hero.png", ContentFile(_image("PNG")))
    logo_path = default_storage.save("content/2026/01/logo.gif", ContentFile(_image("GIF")))
    hero = old.get_model("content", "Hero").objects.create(
        title="Hi", title_en="Hi", image=hero_path
    )
    old.get_model("content", "HistoricalHero").objects.create(
        id=hero.id,
        title="Hi",
        title_en="Hi",
        image=hero_path,
        created_at=hero.created_at,
        updated_at=hero.updated_at,
        history_date=hero.created_at,
        history_type="+",
    )
    old.get_model("content", "Partner").objects.create(name="P", name_en="P", logo=logo_path)
    old.get_model("content", "Partner").objects.create(
        name="Lost", name_en="Lost", logo="content/2026/01/missing.png"
    )

    try:
        new = _migrate(AFTER)
        stored_files = new.get_model("files", "StoredFile")
        hero_now = new.get_model("content", "Hero").objects.get(pk=hero.pk)
        stored = stored_files.objects.get(pk=hero_now.image_id)
        assert (stored.purpose, stored.visibility, stored.owner_id) == (
            "content_image",
            "public",
            None,
        )
        # Processing was queued on commit and ran (tasks are eager in tests).
        assert stored.status == "ready"
        assert (stored.width, stored.height) == (64, 32)
        history = new.get_model("content", "HistoricalHero").objects.get(id=hero.pk)
        assert history.image_id == stored.pk
        partners = new.get_model("content", "Partner").objects
        gif = stored_files.objects.get(pk=partners.get(name_en="P").logo_id)
        assert gif.content_type == "image/png"  # the GIF was re-encoded
        assert partners.get(name_en="Lost").logo_id is None

        back = _migrate(BEFORE)
        restored = back.get_model("content", "Hero").objects.get(pk=hero.pk).image
        assert str(restored).startswith("content/restored/")
        with default_storage.open(str(restored), "rb") as handle:
            assert Image.open(handle).size == (64, 32)
        assert str(
            back.get_model("content", "HistoricalHero").objects.get(id=hero.pk).image
        ) == str(restored)
    finally:
        _migrate(AFTER)
