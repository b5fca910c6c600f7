from __future__ import annotations

import io
from typing import Any

import pytest
from django.core.cache import cache
from django.core.files.uploadedfile import SimpleUploadedFile
from django.urls import reverse
from PIL import Image

from tessera.content import demo, services
from tessera.content.models import Hero, HomePage, MenuItem, Partner
from tessera.files.models import StoredFile
from tessera.files.storage import file_store


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


def test_refresh_cache_action_with_the_cache_down_tells_the_editor(
    admin_client: Any, site: int, settings: Any
) -> None:
    hero = Hero.objects.first()
    assert hero is not None
    settings.RATE_LIMIT_ENABLED = False
    settings.CACHES = {
        "default": {
            "BACKEND": "tessera.core.cache.PooledRedisCache",
            "LOCATION": "redis://127.0.0.1:1/0",
            "OPTIONS": {"socket_connect_timeout": 0.2},
        }
    }

    response = _action(admin_client, "hero", "refresh_cache", [hero.pk])

    assert "The cache is unreachable" in response.content.decode()


def test_refresh_cache_action_does_not_call_a_code_error_an_outage(
    admin_client: Any, site: int, monkeypatch: Any
) -> None:
    hero = Hero.objects.first()
    assert hero is not None

    def broken() -> None:
        raise ZeroDivisionError("a bug, not an outage")

    monkeypatch.setattr(services, "document_rebuild", broken)
    admin_client.raise_request_exception = True
    with pytest.raises(ZeroDivisionError):
        _action(admin_client, "hero", "refresh_cache", [hero.pk])


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


def _partner_post(admin_client: Any, upload: Any, **extra: Any) -> Any:
    return admin_client.post(
        reverse("admin:content_partner_add"),
        {
            "name_en": "Acme",
            "name_ar": "أكمي",
            "url": "https://example.org",
            "logo": upload,
            **extra,
        },
    )


def _partner_change(admin_client: Any, partner: Any, **extra: Any) -> Any:
    return admin_client.post(
        reverse("admin:content_partner_change", args=[partner.pk]),
        {
            "name_en": partner.name_en,
            "name_ar": partner.name_ar,
            "url": partner.url,
            "is_visible": "on",
            **extra,
        },
    )


def _errors(response: Any) -> str:
    assert response.status_code == 200
    form = response.context["adminform"].form
    return " ".join(str(message) for message in form.errors.get("logo", []))


def test_image_upload_is_a_public_stored_file_with_previews(
    admin_client: Any, db: Any, commit_pending: Any
) -> None:
    response = _partner_post(admin_client, SimpleUploadedFile("logo.png", png((300, 200))))

    assert response.status_code == 302
    partner = Partner.objects.select_related("logo").get(name_en="Acme")
    stored = partner.logo
    assert stored is not None
    assert (stored.purpose, stored.visibility, stored.owner_id) == ("content_image", "public", None)
    assert (stored.status, stored.content_type, stored.width, stored.height) == (
        StoredFile.Status.PROCESSING,
        "image/png",
        300,
        200,
    )
    assert file_store().exists(stored.storage_key)
    changelist = reverse("admin:content_partner_changelist")
    assert "Processing…" in admin_client.get(changelist).content.decode()

    commit_pending()  # the variants task runs once the upload has committed

    stored.refresh_from_db()
    assert stored.status == StoredFile.Status.READY
    thumbnail = stored.variants.get(name="thumbnail")
    thumbnail_url = file_store().public_url(thumbnail.storage_key)
    assert f'<img src="{thumbnail_url}"' in admin_client.get(changelist).content.decode()
    change_form = admin_client.get(reverse("admin:content_partner_change", args=[partner.pk]))
    html = change_form.content.decode()
    assert f'<img src="{thumbnail_url}"' in html
    assert 'name="logo-clear"' in html
    assert 'accept="image/png,image/jpeg,image/webp"' in html
    served = admin_client.get(thumbnail_url)
    assert served.status_code == 200
    assert served["Content-Type"] == thumbnail.content_type


def test_saving_without_a_new_upload_keeps_the_image(admin_client: Any, db: Any) -> None:
    _partner_post(admin_client, SimpleUploadedFile("logo.png", png()))
    partner: Any = Partner.objects.get(name_en="Acme")
    logo_id = partner.logo_id

    response = _partner_change(admin_client, partner, name_en="Acme Ltd")

    assert response.status_code == 302
    partner.refresh_from_db()
    assert (partner.name_en, partner.logo_id) == ("Acme Ltd", logo_id)


def test_replacing_and_clearing_the_image(admin_client: Any, db: Any) -> None:
    _partner_post(admin_client, SimpleUploadedFile("logo.png", png()))
    partner: Any = Partner.objects.get(name_en="Acme")
    first = partner.logo_id

    _partner_change(admin_client, partner, logo=SimpleUploadedFile("new.jpg", png((8, 8))))
    partner.refresh_from_db()
    assert partner.logo_id not in (None, first)

    _partner_change(admin_client, partner, **{"logo-clear": "on"})
    partner.refresh_from_db()
    assert partner.logo_id is None
    # The earlier images stay for the history (revert); the files cleanup removes them once
    # no row or history entry refers to them.
    assert StoredFile.objects.filter(purpose="content_image").count() == 2


def test_non_image_upload_is_refused(admin_client: Any, db: Any) -> None:
    response = _partner_post(
        admin_client, SimpleUploadedFile("logo.png", b"<svg onload=alert(1)>", "image/png")
    )

    message = _errors(response)
    assert "cannot be used as an image" in message
    assert "not accepted" in message
    assert "image/jpeg, image/png, image/webp" in message
    assert message in response.content.decode()
    assert not Partner.objects.exists()
    assert not StoredFile.objects.exists()


def test_image_with_hidden_content_is_refused(admin_client: Any, db: Any) -> None:
    polyglot = png() + b"<script>alert(1)</script>"

    response = _partner_post(admin_client, SimpleUploadedFile("logo.png", polyglot))

    assert "cannot be used as an image" in _errors(response)
    assert not Partner.objects.exists()
    assert not StoredFile.objects.exists()


def test_oversized_upload_is_refused(admin_client: Any, db: Any, settings: Any) -> None:
    settings.CONTENT_IMAGE_MAX_BYTES = 100
    response = _partner_post(admin_client, SimpleUploadedFile("big.png", png((64, 64))))

    assert "The image is 152\xa0bytes; the largest allowed is 100\xa0bytes." in _errors(response)
    assert not Partner.objects.exists()
    assert not StoredFile.objects.exists()
    assert list(file_store().list("public/")) == []


def test_upload_with_too_many_pixels_is_refused(admin_client: Any, db: Any, settings: Any) -> None:
    settings.CONTENT_IMAGE_MAX_PIXELS = 1000
    response = _partner_post(admin_client, SimpleUploadedFile("wide.png", png((100, 20))))

    assert "100x20 pixels; at most 1000 pixels" in _errors(response)
    assert not Partner.objects.exists()
    assert not StoredFile.objects.exists()


def test_nothing_is_stored_while_other_fields_are_wrong(admin_client: Any, db: Any) -> None:
    response = _partner_post(
        admin_client, SimpleUploadedFile("logo.png", png()), url="not a url at all"
    )

    assert response.status_code == 200
    assert response.context["adminform"].form.errors
    assert not StoredFile.objects.exists()


def test_home_section_inline_takes_an_image(admin_client: Any, site: int) -> None:
    home: Any = HomePage.objects.get(key="home")
    sections = list(home.sections.order_by("order"))
    data: dict[str, Any] = {
        "key": "home",
        "title_en": home.title_en,
        "title_ar": home.title_ar,
        "intro_en": home.intro_en,
        "intro_ar": home.intro_ar,
        "sections-TOTAL_FORMS": str(len(sections)),
        "sections-INITIAL_FORMS": str(len(sections)),
        "sections-MIN_NUM_FORMS": "0",
        "sections-MAX_NUM_FORMS": "1000",
    }
    for i, section in enumerate(sections):
        data.update(
            {
                f"sections-{i}-id": str(section.pk),
                f"sections-{i}-home_page": str(home.pk),
                f"sections-{i}-kind": section.kind,
                f"sections-{i}-title_en": section.title_en,
                f"sections-{i}-title_ar": section.title_ar,
                f"sections-{i}-body_en": section.body_en,
                f"sections-{i}-body_ar": section.body_ar,
                f"sections-{i}-is_visible": "on",
                f"sections-{i}-order": str(section.order),
            }
        )
    data["sections-0-image"] = SimpleUploadedFile("s.png", png((40, 30)))
    kept = sections[1].image_id

    response = admin_client.post(reverse("admin:content_homepage_change", args=[home.pk]), data)

    assert response.status_code == 302, response.context["errors"]
    sections[0].refresh_from_db()
    sections[1].refresh_from_db()
    assert sections[0].image_id not in (None, kept)
    assert sections[0].image.width == 40
    assert sections[1].image_id == kept
    html = admin_client.get(reverse("admin:content_homepage_change", args=[home.pk]))
    section_input = html.content.decode().index('name="sections-0-title_ar"')
    assert section_input > 0
