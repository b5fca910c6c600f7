"""A bilingual demo site (English and Arabic) for `make run`. Idempotent: rows are matched
by their English title, and only an item without an image gets one, so a second run adds
nothing.

The images are drawn here with Pillow (no binary files in the repository) and stored
through `tessera.files` like an editor's upload (`media.content_image_store`): public
`content_image` files whose variants the worker makes.
"""

from __future__ import annotations

import io
from typing import Any

from django.db import transaction
from PIL import Image, ImageDraw

from tessera.content.media import content_image_store
from tessera.content.models import (
    FooterLink,
    Hero,
    HomePage,
    HomeSection,
    MenuItem,
    Partner,
    SeoEntry,
)

MENU = [
    ("Home", "الرئيسية", "/", "/ar/"),
    ("About us", "من نحن", "/about", "/ar/about"),
    ("Programmes", "البرامج", "/programmes", "/ar/programmes"),
    ("News", "الأخبار", "/news", "/ar/news"),
    ("Contact", "اتصل بنا", "/contact", "/ar/contact"),
]
HEROES = [
    {
        "title_en": "Building skills for a changing world",
        "title_ar": "نبني المهارات لعالم متغيّر",
        "subtitle_en": "Training, research and partnerships across the region.",
        "subtitle_ar": "تدريب وبحث وشراكات في جميع أنحاء المنطقة.",
        "button_text_en": "Explore programmes",
        "button_text_ar": "استكشف البرامج",
        "button_url": "/programmes",
    },
    {
        "title_en": "Applications for the spring cohort are open",
        "title_ar": "باب التسجيل مفتوح لدفعة الربيع",
        "subtitle_en": "Apply before the end of the month.",
        "subtitle_ar": "قدّم طلبك قبل نهاية الشهر.",
        "button_text_en": "Apply now",
        "button_text_ar": "قدّم الآن",
        "button_url": "/apply",
    },
]
PARTNERS = [
    ("Ministry of Education", "وزارة التعليم", "https://example.org/moe"),
    ("Gulf Research Council", "مجلس الخليج للبحوث", "https://example.org/grc"),
    ("Al Noor Foundation", "مؤسسة النور", "https://example.org/alnoor"),
]
FOOTER = [
    ("Privacy policy", "سياسة الخصوصية", "Legal", "قانوني", "/privacy"),
    ("Terms of use", "شروط الاستخدام", "Legal", "قانوني", "/terms"),
    ("Careers", "الوظائف", "Company", "الشركة", "/careers"),
    ("Press", "المركز الإعلامي", "Company", "الشركة", "/press"),
]
SEO = [
    (
        "home",
        "ADMSC — Home",
        "الصفحة الرئيسية",
        "Training and research for the region.",
        "تدريب وبحث من أجل المنطقة.",
    ),
    ("about", "About ADMSC", "عن المركز", "Who we are and what we do.", "من نحن وماذا نفعل."),
]
SECTIONS = [
    (
        "text",
        "Who we are",
        "من نحن",
        "A centre for training and applied research founded in 2009.",
        "مركز للتدريب والبحث التطبيقي تأسس عام 2009.",
    ),
    (
        "stats",
        "In numbers",
        "بالأرقام",
        "12,000 graduates, 40 partners, 6 countries.",
        "١٢٬٠٠٠ خريج، ٤٠ شريكًا، ٦ دول.",  # noqa: RUF001 - Arabic-Indic digits
    ),
    (
        "cta",
        "Join the next cohort",
        "انضم إلى الدفعة القادمة",
        "Places are limited; apply today.",
        "المقاعد محدودة، قدّم طلبك اليوم.",
    ),
]


# (width, height, start colour, end colour) of each kind of picture.
PICTURES: dict[str, tuple[int, int, str, str]] = {
    "hero": (1600, 640, "#0b3d5c", "#1f8a70"),
    "logo": (480, 240, "#f4f1ea", "#d9d2c3"),
    "seo": (1200, 630, "#1f8a70", "#0b3d5c"),
    "section": (960, 540, "#f2a541", "#c8553d"),
}


def picture(kind: str, label: str) -> bytes:
    """A small JPEG: a diagonal gradient in the site's colours with a few shapes."""
    width, height, start, end = PICTURES[kind]
    mask = Image.linear_gradient("L").rotate(45, expand=True).resize((width, height))
    image = Image.composite(
        Image.new("RGB", (width, height), end), Image.new("RGB", (width, height), start), mask
    )
    draw = ImageDraw.Draw(image)
    seed = sum(map(ord, label))
    for i in range(3):
        radius = height // (3 + i)
        x = (seed * (i + 7)) % width
        y = (seed * (i + 3)) % height
        draw.ellipse((x - radius, y - radius, x + radius, y + radius), outline="white", width=6)
    # Pillow's built-in font has Latin letters only.
    text = label.encode("ascii", "ignore").decode()
    draw.text((height // 10, height // 10), text, fill="white")
    buffer = io.BytesIO()
    image.save(buffer, format="JPEG", quality=80)
    return buffer.getvalue()


def _with_image(row: Any, field: str, kind: str, label: str) -> int:
    """Give `row` a demo image unless it has one; 1 when it got one."""
    if getattr(row, f"{field}_id") is not None:
        return 0
    stored = content_image_store(content=io.BytesIO(picture(kind, label)), name=f"{kind}.jpg")
    setattr(row, field, stored)
    row.save(update_fields=[field, "updated_at"])
    return 1


def _get_or_create(model: Any, *, lookup: dict[str, Any], values: dict[str, Any]) -> int:
    if model.objects.filter(**lookup).exists():
        return 0
    model.objects.create(**lookup, **values)
    return 1


def _images() -> int:
    added = 0
    for hero in Hero.objects.filter(title_en__in=[h["title_en"] for h in HEROES]):
        added += _with_image(hero, "image", "hero", str(hero))
    for partner in Partner.objects.filter(name_en__in=[p[0] for p in PARTNERS]):
        added += _with_image(partner, "logo", "logo", str(partner))
    for entry in SeoEntry.objects.filter(page__in=[s[0] for s in SEO]):
        added += _with_image(entry, "image", "seo", entry.page)
    for section in HomeSection.objects.filter(
        home_page__key="home", title_en__in=[s[1] for s in SECTIONS]
    ):
        added += _with_image(section, "image", "section", str(section))
    return added


def load() -> int:
    created = 0
    with transaction.atomic():
        for i, (en, ar, url_en, url_ar) in enumerate(MENU):
            created += _get_or_create(
                MenuItem,
                lookup={"title_en": en},
                values={"title_ar": ar, "url_en": url_en, "url_ar": url_ar, "order": i * 10},
            )
        for i, hero in enumerate(HEROES):
            values = {k: v for k, v in hero.items() if k != "title_en"}
            created += _get_or_create(
                Hero, lookup={"title_en": hero["title_en"]}, values={**values, "order": i * 10}
            )
        for i, (en, ar, url) in enumerate(PARTNERS):
            created += _get_or_create(
                Partner,
                lookup={"name_en": en},
                values={"name_ar": ar, "url": url, "order": i * 10},
            )
        for i, (en, ar, group_en, group_ar, url) in enumerate(FOOTER):
            created += _get_or_create(
                FooterLink,
                lookup={"title_en": en},
                values={
                    "title_ar": ar,
                    "group_en": group_en,
                    "group_ar": group_ar,
                    "url": url,
                    "order": i * 10,
                },
            )
        for page, title_en, title_ar, desc_en, desc_ar in SEO:
            created += _get_or_create(
                SeoEntry,
                lookup={"page": page},
                values={
                    "title_en": title_en,
                    "title_ar": title_ar,
                    "description_en": desc_en,
                    "description_ar": desc_ar,
                },
            )
        home, made = HomePage.objects.get_or_create(
            key="home",
            defaults={
                "title_en": "Welcome to ADMSC",
                "title_ar": "مرحبًا بكم في المركز",
                "intro_en": "Learning, research and partnership.",
                "intro_ar": "تعلّم وبحث وشراكة.",
            },
        )
        created += int(made)
        for i, (kind, en, ar, body_en, body_ar) in enumerate(SECTIONS):
            created += _get_or_create(
                HomeSection,
                lookup={"home_page": home, "title_en": en},
                values={
                    "kind": kind,
                    "title_ar": ar,
                    "body_en": body_en,
                    "body_ar": body_ar,
                    "order": i * 10,
                },
            )
        created += _images()
    return created
