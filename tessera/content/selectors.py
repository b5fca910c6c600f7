"""Reads: the website document built from the database (`document_build`)."""

from __future__ import annotations

from dataclasses import dataclass
from datetime import datetime
from typing import Any

from django.db.models import Q
from django.utils import timezone

from tessera.content.media import image_links, images_prefetch
from tessera.content.models import (
    ContentItem,
    FooterLink,
    Hero,
    HomePage,
    HomeSection,
    MenuItem,
    Partner,
    SeoEntry,
)

LANGUAGES: tuple[str, ...] = ("en", "ar")
BOTH = "all"  # the variant with both languages side by side
VARIANTS: tuple[str, ...] = (BOTH, *LANGUAGES)
SECTIONS: tuple[str, ...] = ("menuItems", "heroes", "partners", "footerLinks", "seo", "homePage")


@dataclass(frozen=True)
class BuiltDocument:
    """Each variant (`all`, `en`, `ar`) as a dict of sections, and when it must be rebuilt
    because a scheduled item appears or disappears (`next_boundary`)."""

    variants: dict[str, dict[str, Any]]
    next_boundary: datetime | None


def _text(obj: Any, field: str, variant: str) -> Any:
    english = getattr(obj, f"{field}_en") or ""
    if variant == BOTH:
        return {"en": english, "ar": getattr(obj, f"{field}_ar") or ""}
    # English is the fallback for an empty translation.
    return getattr(obj, f"{field}_{variant}") or english


def _images(stored: Any) -> dict[str, Any]:
    """`imageUrl` (the original, public) and `image` (the original and its variants: thumbnail
    256 px, medium 1024 px, their WebP versions). Both are null until the file is processed;
    the document is rebuilt when it is."""
    links = image_links(stored)
    if links is None or links.url is None:
        return {"url": None, "image": None}
    return {"url": links.url, "image": links.as_document()}


def _live(
    model: type[ContentItem],
    now: datetime,
    boundaries: list[datetime],
    image_field: str | None = None,
) -> list[Any]:
    rows = list(
        model._default_manager.filter(is_visible=True)
        .filter(Q(unpublish_at__isnull=True) | Q(unpublish_at__gt=now))
        .select_related(*([image_field] if image_field else []))
        .order_by("order", "created_at")
    )
    live = []
    for row in rows:
        if row.publish_at is not None and row.publish_at > now:
            boundaries.append(row.publish_at)
            continue
        if row.unpublish_at is not None:
            boundaries.append(row.unpublish_at)
        live.append(row)
    return live


def document_build(*, now: datetime | None = None) -> BuiltDocument:
    """The whole document in every variant, from seven queries (eight once an image has
    variants: one query loads them all)."""
    now = now or timezone.now()
    boundaries: list[datetime] = []
    menu = _live(MenuItem, now, boundaries)
    heroes = _live(Hero, now, boundaries, "image")
    partners = _live(Partner, now, boundaries, "logo")
    footer = _live(FooterLink, now, boundaries)
    seo = list(SeoEntry.objects.select_related("image").order_by("page"))
    home = HomePage.objects.filter(key="home").first()
    sections: list[HomeSection] = []
    if home is not None:
        sections = [
            s for s in _live(HomeSection, now, boundaries, "image") if s.home_page_id == home.pk
        ]
    live_menu_ids = {item.pk for item in menu}
    images_prefetch(
        [
            *(h.image for h in heroes),
            *(p.logo for p in partners),
            *(s.image for s in seo),
            *(s.image for s in sections),
        ]
    )
    # Built once, shared by the three variants.
    hero_images = {h.pk: _images(h.image) for h in heroes}
    logos = {p.pk: _images(p.logo) for p in partners}
    seo_images = {s.pk: _images(s.image) for s in seo}
    section_images = {s.pk: _images(s.image) for s in sections}

    variants: dict[str, dict[str, Any]] = {}
    for v in VARIANTS:
        variants[v] = {
            "menuItems": [
                {
                    "id": str(m.pk),
                    "title": _text(m, "title", v),
                    "url": _text(m, "url", v),
                    "parentId": str(m.parent_id) if m.parent_id in live_menu_ids else None,
                    "openInNewTab": m.open_in_new_tab,
                    "order": m.order,
                }
                for m in menu
                if m.parent_id is None or m.parent_id in live_menu_ids
            ],
            "heroes": [
                {
                    "id": str(h.pk),
                    "title": _text(h, "title", v),
                    "subtitle": _text(h, "subtitle", v),
                    "buttonText": _text(h, "button_text", v),
                    "buttonUrl": h.button_url,
                    "imageUrl": hero_images[h.pk]["url"],
                    "image": hero_images[h.pk]["image"],
                    "order": h.order,
                }
                for h in heroes
            ],
            "partners": [
                {
                    "id": str(p.pk),
                    "name": _text(p, "name", v),
                    "description": _text(p, "description", v),
                    "url": p.url,
                    "logoUrl": logos[p.pk]["url"],
                    "logo": logos[p.pk]["image"],
                    "order": p.order,
                }
                for p in partners
            ],
            "footerLinks": [
                {
                    "id": str(f.pk),
                    "title": _text(f, "title", v),
                    "group": _text(f, "group", v),
                    "url": f.url,
                    "order": f.order,
                }
                for f in footer
            ],
            "seo": [
                {
                    "page": s.page,
                    "title": _text(s, "title", v),
                    "description": _text(s, "description", v),
                    "keywords": _text(s, "keywords", v),
                    "imageUrl": seo_images[s.pk]["url"],
                    "image": seo_images[s.pk]["image"],
                }
                for s in seo
            ],
            "homePage": None
            if home is None
            else {
                "id": str(home.pk),
                "title": _text(home, "title", v),
                "intro": _text(home, "intro", v),
                "sections": [
                    {
                        "id": str(s.pk),
                        "kind": s.kind,
                        "title": _text(s, "title", v),
                        "body": _text(s, "body", v),
                        "imageUrl": section_images[s.pk]["url"],
                        "image": section_images[s.pk]["image"],
                        "order": s.order,
                    }
                    for s in sections
                ],
            },
        }
    future = [b for b in boundaries if b > now]
    return BuiltDocument(variants=variants, next_boundary=min(future) if future else None)
