"""Content images are public stored files of `tessera.files`: the document carries each one's
public URL and its variants once processed, and is rebuilt when the processing commits."""

from __future__ import annotations

import io
from typing import Any

import orjson
import pytest
from django.core.cache import cache
from django.core.files.uploadedfile import SimpleUploadedFile
from django.urls import reverse
from PIL import Image

from tessera.content import services
from tessera.content.models import Hero
from tessera.files.models import StoredFile
from tessera.files.storage import file_store

URL = "/api/website-data/"


def png(size: tuple[int, int] = (1400, 700)) -> bytes:
    buffer = io.BytesIO()
    Image.new("RGB", size, "teal").save(buffer, format="PNG")
    return buffer.getvalue()


def data(response: Any) -> Any:
    body = orjson.loads(response.content)
    assert body["status"] == "success", body
    return body["data"]


def _add_hero(admin_client: Any, title: str) -> Any:
    response = admin_client.post(
        reverse("admin:content_hero_add"),
        {
            "title_en": title,
            "title_ar": "يوم مفتوح",
            "button_url": "/open-day",
            "is_visible": "on",
            "image": SimpleUploadedFile("open-day.png", png()),
        },
    )
    assert response.status_code == 302
    return Hero.objects.select_related("image").get(title_en=title)


def _hero(doc: list[dict[str, Any]], title: str) -> dict[str, Any]:
    return next(hero for hero in doc if hero["title"] in (title, {"en": title, "ar": "يوم مفتوح"}))


def _forget_pending_rebuilds() -> None:
    from django.db import connection

    from tessera.content.signals import rebuild_after_commit

    connection.run_on_commit = [
        entry for entry in connection.run_on_commit if entry[1] is not rebuild_after_commit
    ]


def test_variants_appear_in_the_document_once_processed(
    api: Any,
    admin_client: Any,
    site: int,
    commit_pending: Any,
    django_assert_num_queries: Any,
) -> None:
    hero = _add_hero(admin_client, "Open day")
    _forget_pending_rebuilds()
    services.document_rebuild()  # what the save's own rebuild did after its commit

    waiting = _hero(data(api.get(URL + "heroes/?lang=en")), "Open day")
    assert (waiting["imageUrl"], waiting["image"]) == (None, None)

    commit_pending()  # the variants task; its commit sends `file_ready`

    with django_assert_num_queries(0):  # served from the cache the rebuild refreshed
        ready = _hero(data(api.get(URL + "heroes/?lang=en")), "Open day")
    base = f"/media/public/content_image/{hero.image_id}"
    image = ready["image"]
    assert ready["imageUrl"] == image["url"] == f"{base}/original.png"
    assert (image["width"], image["height"]) == (1400, 700)
    assert image["variants"] == {
        "thumbnail": f"{base}/thumbnail.jpg",
        "medium": f"{base}/medium.jpg",
        "thumbnailWebp": f"{base}/thumbnail.webp",
        "mediumWebp": f"{base}/medium.webp",
    }
    both = _hero(data(api.get(URL + "heroes/")), "Open day")
    assert both["image"] == image
    for url, content_type in (
        (image["url"], "image/png"),
        (image["variants"]["medium"], "image/jpeg"),
        (image["variants"]["thumbnailWebp"], "image/webp"),
    ):
        served = api.get(url)
        assert served.status_code == 200
        assert served["Content-Type"] == content_type
    medium = Image.open(
        io.BytesIO(b"".join(api.get(image["variants"]["medium"]).streaming_content))
    )
    assert medium.size == (1024, 512)


def test_every_image_field_is_in_the_document(
    api: Any, site: int, commit_pending: Any, django_assert_max_num_queries: Any
) -> None:
    commit_pending()  # the demo's images are processed
    cache.clear()

    with django_assert_max_num_queries(8):  # seven reads and one for every variant
        doc = data(api.get(URL + "?lang=ar"))

    images = [
        *(hero["image"] for hero in doc["heroes"]),
        *(partner["logo"] for partner in doc["partners"]),
        *(entry["image"] for entry in doc["seo"]),
        *(section["image"] for section in doc["homePage"]["sections"]),
    ]
    assert len(images) == 10
    assert all(image is not None and image["variants"]["thumbnailWebp"] for image in images)
    assert doc["partners"][0]["logoUrl"] == doc["partners"][0]["logo"]["url"]


def test_an_image_no_content_uses_does_not_rebuild(
    api: Any, site: int, user: Any, commit_pending: Any
) -> None:
    from tessera.accounts.tokens import access_token_issue
    from tessera.files.tests.helpers import upload
    from tests.fixtures import ApiClient

    services.document_rebuild()
    version = cache.get(services.doc_key("all"))[0]
    commit_pending()  # the demo's images: the document changes
    after_demo = cache.get(services.doc_key("all"))[0]
    assert after_demo != version

    someone = ApiClient(token=access_token_issue(user=user))
    response = upload(someone, png((20, 20)), filename="x.png", purpose="content_image")
    assert response.status_code == 201
    commit_pending()

    assert StoredFile.objects.get(pk=response.json()["data"]["id"]).status == "ready"
    assert cache.get(services.doc_key("all"))[0] == after_demo


@pytest.mark.django_db(transaction=True, serialized_rollback=True)
def test_processing_rebuilds_the_document_after_commit(api: Any, admin_client: Any) -> None:
    """No test transaction: each commit runs its hooks, as in production (tasks eager)."""
    cache.clear()
    assert data(api.get(URL + "heroes/")) == []

    hero = _add_hero(admin_client, "Open day")

    stored = StoredFile.objects.get(pk=hero.image_id)
    assert stored.status == StoredFile.Status.READY
    assert stored.owner_id is None
    image = _hero(data(api.get(URL + "heroes/?lang=en")), "Open day")["image"]
    assert image["variants"]["mediumWebp"].endswith(f"{hero.image_id}/medium.webp")
    assert file_store().exists(stored.storage_key)


def test_replaced_images_stay_for_the_history_unused_ones_are_cleaned_up(
    admin_client: Any, db: Any
) -> None:
    from datetime import timedelta

    from django.utils import timezone

    from tessera.content.media import content_image_store
    from tessera.files.processing import files_cleanup

    first = _add_hero(admin_client, "Open day").image_id
    hero: Any = Hero.objects.get(title_en="Open day")
    admin_client.post(
        reverse("admin:content_hero_change", args=[hero.pk]),
        {
            "title_en": "Open day",
            "title_ar": "يوم مفتوح",
            "is_visible": "on",
            "image": SimpleUploadedFile("second.png", png((50, 50))),
        },
    )
    hero.refresh_from_db()
    assert hero.image_id not in (None, first)
    unused = content_image_store(content=io.BytesIO(png((10, 10))), name="unused.png")

    files_cleanup(now=timezone.now() + timedelta(days=2))

    remaining = set(StoredFile.objects.values_list("pk", flat=True))
    assert remaining == {first, hero.image_id}  # the first is in the hero's history
    assert unused.pk not in remaining
