"""A bilingual demo site (English and Arabic) for `make run`. Idempotent: rows are matched
by their English title, so a second run adds nothing."""

from __future__ import annotations

from typing import Any

from django.db import transaction

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


def _get_or_create(model: Any, *, lookup: dict[str, Any], values: dict[str, Any]) -> int:
    if model.objects.filter(**lookup).exists():
        return 0
    model.objects.create(**lookup, **values)
    return 1


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
    return created
