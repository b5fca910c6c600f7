# Content images move from ImageField paths (files under MEDIA_ROOT/content/) to public
# stored files of `tessera.files` (purpose `content_image`).
#
# Forwards: each image an item refers to is copied into the file store as a system-owned,
# public `content_image` file in `processing`, and its variants are queued after the commit
# (should the queue be unreachable, the daily files cleanup queues every file still
# processing after an hour). A GIF, which the old field took and `tessera.files` does not,
# is re-encoded as a PNG; a missing or unreadable file is logged and the item is left
# without an image. History rows that named the same path point at the same stored file, so
# reverting to them still shows the image. The old files are left where they were; the old
# columns are dropped by 0003 (a migration of its own: PostgreSQL refuses to alter a table
# with deferred foreign-key checks still pending from this one's updates).
#
# Backwards: each stored original is copied back under MEDIA_ROOT/content/restored/ and the
# path is put back in the ImageField; the stored files stay (the cleanup removes them once
# nothing refers to them).

import hashlib
import io
import logging
import posixpath

import django.db.models.deletion
import tessera.files.fields
from django.core.files.base import ContentFile
from django.core.files.storage import default_storage
from django.db import migrations, transaction

logger = logging.getLogger("tessera.content")

IMAGES = (("Hero", "image"), ("Partner", "logo"), ("SeoEntry", "image"), ("HomeSection", "image"))
HELP = "A PNG, JPEG or WebP image; its thumbnail and WebP versions are made for you."
ACCEPTED = {
    "JPEG": ("image/jpeg", "jpg"),
    "PNG": ("image/png", "png"),
    "WEBP": ("image/webp", "webp"),
}


def _image_bytes(path):
    """(bytes, content type, extension, width, height) of a legacy image, or None."""
    from PIL import Image

    if not default_storage.exists(path):
        logger.warning("content.migrate_image_missing path=%s", path)
        return None
    with default_storage.open(path, "rb") as handle:
        data = handle.read()
    try:
        with Image.open(io.BytesIO(data)) as image:
            width, height = image.size
            if image.format in ACCEPTED:
                content_type, extension = ACCEPTED[image.format]
                return data, content_type, extension, width, height
            image.seek(0)
            buffer = io.BytesIO()
            image.convert("RGBA").save(buffer, format="PNG")
    except (OSError, SyntaxError, ValueError, EOFError, Image.DecompressionBombError):
        logger.warning("content.migrate_image_unreadable path=%s", path)
        return None
    return buffer.getvalue(), "image/png", "png", width, height


def _store(stored_file_model, path):
    from tessera.core.ids import uuid7
    from tessera.files.storage import file_store

    found = _image_bytes(path)
    if found is None:
        return None
    data, content_type, extension, width, height = found
    file_id = uuid7()
    key = f"public/content_image/{file_id}/original.{extension}"
    file_store().save(key, io.BytesIO(data), content_type=content_type)
    stored_file_model.objects.create(
        id=file_id,
        owner=None,
        purpose="content_image",
        visibility="public",
        status="processing",
        storage_key=key,
        original_name=posixpath.basename(path)[:255] or f"image.{extension}",
        content_type=content_type,
        size=len(data),
        sha256=hashlib.sha256(data).hexdigest(),
        width=width,
        height=height,
    )
    transaction.on_commit(lambda: _queue(file_id))
    return file_id


def _queue(file_id):
    from tessera.files.tasks import process_image

    try:
        process_image.apply_async(kwargs={"file_id": str(file_id)})
    except Exception:  # the daily cleanup queues files still processing after an hour
        logger.exception("content.migrate_image_queue_failed file_id=%s", file_id)


def to_stored_files(apps, schema_editor):
    stored_file_model = apps.get_model("files", "StoredFile")
    copied = {}
    for model_name, field in IMAGES:
        legacy = f"legacy_{field}"
        model = apps.get_model("content", model_name)
        rows = model._base_manager.exclude(**{legacy: ""}).exclude(**{f"{legacy}__isnull": True})
        for pk, path in rows.values_list("pk", legacy):
            if path not in copied:
                copied[path] = _store(stored_file_model, path)
            if copied[path] is not None:
                model._base_manager.filter(pk=pk).update(**{field: copied[path]})
        history = apps.get_model("content", f"Historical{model_name}")
        for path, file_id in copied.items():
            if file_id is not None:
                history._base_manager.filter(**{legacy: path}).update(**{field: file_id})


def to_image_paths(apps, schema_editor):
    from tessera.files.storage import file_store

    stored_file_model = apps.get_model("files", "StoredFile")
    restored = {}
    for model_name, field in IMAGES:
        legacy = f"legacy_{field}"
        model = apps.get_model("content", model_name)
        rows = model._base_manager.exclude(**{f"{field}__isnull": True})
        for pk, file_id in rows.values_list("pk", field):
            if file_id not in restored:
                stored = stored_file_model.objects.filter(pk=file_id).first()
                if stored is None or stored.status not in ("processing", "ready"):
                    restored[file_id] = ""
                    continue
                data = b"".join(file_store().iter_chunks(stored.storage_key))
                extension = posixpath.splitext(stored.storage_key)[1]
                restored[file_id] = default_storage.save(
                    f"content/restored/{file_id}{extension}", ContentFile(data)
                )
            model._base_manager.filter(pk=pk).update(**{legacy: restored[file_id]})
        history = apps.get_model("content", f"Historical{model_name}")
        for file_id, path in restored.items():
            history._base_manager.filter(**{field: file_id}).update(**{legacy: path})


def _stored_file_field():
    return tessera.files.fields.StoredFileField(
        blank=True,
        help_text=HELP,
        null=True,
        on_delete=django.db.models.deletion.SET_NULL,
        purpose="content_image",
        related_name="+",
        to="files.storedfile",
    )


def _historical_stored_file_field():
    return tessera.files.fields.StoredFileField(
        blank=True,
        db_constraint=False,
        help_text=HELP,
        null=True,
        on_delete=django.db.models.deletion.DO_NOTHING,
        purpose="content_image",
        related_name="+",
        to="files.storedfile",
    )


def _operations():
    renames, additions = [], []
    for model_name, field in IMAGES:
        for name, make in (
            (model_name.lower(), _stored_file_field),
            (f"historical{model_name.lower()}", _historical_stored_file_field),
        ):
            renames.append(
                migrations.RenameField(model_name=name, old_name=field, new_name=f"legacy_{field}")
            )
            additions.append(migrations.AddField(model_name=name, name=field, field=make()))
    return [
        *renames,
        *additions,
        migrations.RunPython(to_stored_files, to_image_paths, elidable=False),
    ]


class Migration(migrations.Migration):
    dependencies = [
        ("content", "0001_initial"),
        ("files", "0001_initial"),
    ]

    operations = _operations()
