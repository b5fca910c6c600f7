from __future__ import annotations

import io
from typing import Any

import pytest
from django.core.cache import cache
from django.core.files.uploadedfile import SimpleUploadedFile
from django.urls import reverse
from PIL import Image

from tessera.content import demo, services
from tessera.content.models import Hero, MenuItem, Partner


def png(size: tuple[int, int] = (4, 4)) -> bytes:
    buffer = io.BytesIO()
    Image.new("RGB", size, "red").save(buffer, format="PNG")
    return buffer.getvalue()


def test_demo_is_idempotent(db: Any) -> None:
    assert demo.load() > 15
    assert demo.load() == 0


@pytest.mark.parametrize(
    "model", ["menuitem", "hero", "partner", "footerlink", "seoentry", "homepage", "homesection"]
)
def test_admin_pages_render(admin_client: Any, site: int, model: str) -> None:
    assert admin_client.get(reverse(f"admin:content_{model}_changelist")).status_code == 200
    assert admin_client.get(reverse(f"admin:content_{model}_add")).status_code == 200


def test_arabic_fields_are_right_to_left(admin_client: Any, db: Any) -> None:
    html = admin_client.get(reverse("admin:content_hero_add")).content.decode()

    assert 'name="title_ar"' in html
    start = html.index('name="title_ar"')
    tag = html[html.rindex("<", 0, start) : html.index(">", start)]
    assert 'dir="rtl"' in tag
    assert 'lang="ar"' in tag


def _action(admin_client: Any, model: str, action: str, pks: list[Any]) -> Any:
    return admin_client.post(
        reverse(f"admin:content_{model}_changelist"),
        {"action": action, "_selected_action": [str(pk) for pk in pks]},
        follow=True,
    )


def test_move_actions_reorder_without_typing_numbers(admin_client: Any, site: int) -> None:
    titles = lambda: list(  # noqa: E731
        MenuItem.objects.order_by("order").values_list("title_en", flat=True)
    )
    contact: Any = MenuItem.objects.get(title_en="Contact")

    _action(admin_client, "menuitem", "move_top", [contact.pk])
    assert titles()[0] == "Contact"

    _action(admin_client, "menuitem", "move_down", [contact.pk])
    assert titles()[:2] == ["Home", "Contact"]

    _action(admin_client, "menuitem", "move_bottom", [contact.pk])
    assert titles()[-1] == "Contact"

    _action(admin_client, "menuitem", "move_up", [contact.pk])
    assert titles()[-2] == "Contact"
    assert contact.history.count() >= 5  # each move is in the history


def test_new_item_goes_last(admin_client: Any, site: int) -> None:
    response = admin_client.post(
        reverse("admin:content_footerlink_add"),
        {"title_en": "Blog", "title_ar": "المدونة", "url": "/blog", "is_visible": "on"},
    )

    assert response.status_code == 302
    assert MenuItem.objects.count() > 0
    from tessera.content.models import FooterLink

    assert FooterLink.objects.order_by("order").last().title_en == "Blog"  # type: ignore[union-attr]


def test_refresh_cache_action(admin_client: Any, site: int) -> None:
    cache.clear()
    hero = Hero.objects.first()
    assert hero is not None

    response = _action(admin_client, "hero", "refresh_cache", [hero.pk])

    assert "Website cache refreshed" in response.content.decode()
    assert cache.get(services.doc_key("all")) is not None


def test_history_revert(admin_client: Any, site: int) -> None:
    hero: Any = Hero.objects.get(title_en="Building skills for a changing world")
    hero.title_en = "Changed"
    hero.save()
    original = hero.history.order_by("history_date").first()
    assert original is not None

    url = reverse("admin:content_hero_simple_history", args=[hero.pk, original.history_id])
    assert admin_client.get(url).status_code == 200
    form = admin_client.get(reverse("admin:content_hero_change", args=[hero.pk]))
    assert form.status_code == 200
    data = {
        "title_en": "Building skills for a changing world",
        "title_ar": hero.title_ar,
        "subtitle_en": hero.subtitle_en,
        "subtitle_ar": hero.subtitle_ar,
        "button_text_en": hero.button_text_en,
        "button_text_ar": hero.button_text_ar,
        "button_url": hero.button_url,
        "is_visible": "on",
    }
    response = admin_client.post(url, data)

    assert response.status_code == 302
    hero.refresh_from_db()
    assert hero.title_en == "Building skills for a changing world"
    assert (
        "history"
        in admin_client.get(reverse("admin:content_hero_history", args=[hero.pk]))
        .content.decode()
        .lower()
    )


def _partner_post(admin_client: Any, upload: Any) -> Any:
    return admin_client.post(
        reverse("admin:content_partner_add"),
        {"name_en": "Acme", "name_ar": "أكمي", "url": "https://example.org", "logo": upload},
    )


def test_image_upload_and_preview(admin_client: Any, db: Any) -> None:
    response = _partner_post(admin_client, SimpleUploadedFile("logo.png", png(), "image/png"))

    assert response.status_code == 302
    partner = Partner.objects.get(name_en="Acme")
    assert str(partner.logo.name).endswith(".png")
    changelist = admin_client.get(reverse("admin:content_partner_changelist")).content.decode()
    assert f'<img src="{partner.logo.url}"' in changelist


def test_non_image_upload_is_refused(admin_client: Any, db: Any) -> None:
    response = _partner_post(
        admin_client, SimpleUploadedFile("logo.png", b"<svg onload=alert(1)>", "image/png")
    )

    assert response.status_code == 200
    assert "valid image" in response.content.decode()
    assert not Partner.objects.exists()


def test_oversized_upload_is_refused(admin_client: Any, db: Any, settings: Any) -> None:
    settings.CONTENT_IMAGE_MAX_BYTES = 100
    response = _partner_post(
        admin_client, SimpleUploadedFile("big.png", png((64, 64)), "image/png")
    )

    assert response.status_code == 200
    assert "larger than" in response.content.decode()
    assert not Partner.objects.exists()
