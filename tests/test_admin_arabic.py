"""Every label the admin shows is translated into Arabic.

The test walks every model registered with the admin site (Tessera's and the libraries'
it registers: groups, periodic tasks) and each label its pages show: the app's name, the
model's names (singular and plural), every field's name and choices, the form's field
labels (with the translated-field columns such as "Title [English]"), the change list's
columns, its filters and their options, the actions, the fieldset titles and the inlines.
With Arabic active, a label rendered the same as its English text is untranslated, and so
is one that still holds Latin letters (the "Arabic singular + English s" of a plural
Django made up, a "[en]" suffix), except for the short list of names below, which stay
as they are in Arabic text too.
"""

from __future__ import annotations

import re
from collections.abc import Iterator, Mapping
from typing import Any

import pytest
from django.apps import apps
from django.contrib import admin
from django.contrib.admin.utils import label_for_field, model_format_dict
from django.db import models
from django.test import RequestFactory
from django.utils import translation

pytestmark = pytest.mark.django_db

# Proper names and technical tokens written in Latin letters in Arabic as well.
PROPER_NAMES = frozenset(
    {
        "Tessera",
        "GitHub",
        "Google",
        "SEO",
        "URL",
        "ID",
        "IP",
        "UUID",
        "JSON",
        "SHA-256",
        "SMS",
        "MIME",
        "HTTP",
        "Celery",
        "PostHog",
        "E.164",
        "WebP",
        "PNG",
        "JPEG",
        "MB",
        "cron",
        "AMQP",
        "px",
    }
)
LATIN_WORD = re.compile(r"[A-Za-z][A-Za-z0-9.\-]*")


class _ActionLabel:
    """An action's description as the action menu shows it: "Delete selected
    %(verbose_name_plural)s" with the model's plural put in."""

    def __init__(self, description: Any, names: Mapping[str, Any]) -> None:
        self.description = description
        self.names = names

    def __str__(self) -> str:
        return str(self.description) % {key: str(value) for key, value in self.names.items()}


def _render(label: Any, language: str) -> str:
    with translation.override(language):
        return str(label)


def untranslated(label: Any) -> bool:
    english = _render(label, "en").strip()
    if not english or not LATIN_WORD.search(english):
        return False  # "—", a number: nothing to translate
    arabic = _render(label, "ar")
    if english in PROPER_NAMES:
        return False
    leftover = [word for word in LATIN_WORD.findall(arabic) if word not in PROPER_NAMES]
    return arabic == english or bool(leftover)


def _request(superuser: Any) -> Any:
    request = RequestFactory().get("/admin/")
    request.user = superuser
    return request


def _field_labels(model: type[models.Model]) -> Iterator[tuple[str, Any]]:
    for field in model._meta.get_fields():
        if not isinstance(field, models.Field):
            continue  # reverse relations are not shown
        yield f"field {field.name}", field.verbose_name
        for value, choice in getattr(field, "flatchoices", None) or []:
            if str(choice) in (str(value), str(value).replace("_", " ")):
                continue  # an identifier shown as it is (a time zone such as Africa/Cairo)
            yield f"choice {field.name}={value}", choice


def _change_list_labels(
    model: type[models.Model], model_admin: Any, request: Any
) -> Iterator[tuple[str, Any]]:
    for name in model_admin.get_list_display(request):
        if name not in ("__str__", "action_checkbox"):
            yield f"column {name}", label_for_field(name, model, model_admin)
    for entry in model_admin.get_list_filter(request):
        if isinstance(entry, type) and issubclass(entry, admin.SimpleListFilter):
            shown = entry(request, {}, model, model_admin)
            yield f"filter {entry.__name__}", shown.title
            for value, option in shown.lookup_choices:
                yield f"filter {entry.__name__}={value}", option
    for name, (_func, _name, description) in model_admin.get_actions(request).items():
        yield f"action {name}", _ActionLabel(description, model_format_dict(model._meta))


def _change_form_labels(
    model: type[models.Model], model_admin: Any, request: Any
) -> Iterator[tuple[str, Any]]:
    for title, _options in model_admin.get_fieldsets(request):
        if title:
            yield f"fieldset {title}", title
    form = model_admin.get_form(request)
    for name, form_field in form.base_fields.items():
        if form_field.label is not None:
            yield f"form field {name}", form_field.label
    for name in model_admin.get_readonly_fields(request):
        yield f"read-only {name}", label_for_field(name, model, model_admin, form=form)
    for inline in model_admin.get_inline_instances(request):
        inline_meta = inline.model._meta
        yield f"inline {inline_meta.model_name}", inline_meta.verbose_name_plural
        for where, label in _field_labels(inline.model):
            yield f"inline {inline_meta.model_name} {where}", label


def admin_labels(
    model: type[models.Model], model_admin: Any, request: Any
) -> Iterator[tuple[str, Any]]:
    meta = model._meta
    yield "app", apps.get_app_config(meta.app_label).verbose_name
    yield "verbose_name", meta.verbose_name
    yield "verbose_name_plural", meta.verbose_name_plural
    yield from _field_labels(model)
    yield from _change_list_labels(model, model_admin, request)
    yield from _change_form_labels(model, model_admin, request)


def test_every_model_of_tesseras_apps_has_arabic_names() -> None:
    # Models the admin does not show (refresh tokens, codes, capsule media…) too.
    missing = sorted(
        f"{model._meta.label}: {where} = {_render(label, 'ar')!r}"
        for config in apps.get_app_configs()
        if config.name.startswith("tessera.")
        for model in config.get_models()
        for where, label in [
            ("verbose_name", model._meta.verbose_name),
            ("verbose_name_plural", model._meta.verbose_name_plural),
            *_field_labels(model),
        ]
        if untranslated(label) and not model._meta.label.split(".")[1].startswith("Historical")
    )

    assert missing == [], f"{len(missing)} labels left in English:\n" + "\n".join(missing)


def test_every_admin_label_is_translated_into_arabic(admin_user: Any) -> None:
    request = _request(admin_user)
    missing = sorted(
        {
            f"{model._meta.label}: {where} = {_render(label, 'ar')!r}"
            for model, model_admin in admin.site._registry.items()
            for where, label in admin_labels(model, model_admin, request)
            if untranslated(label)
        }
    )

    assert missing == [], f"{len(missing)} labels left in English:\n" + "\n".join(missing)


@pytest.mark.parametrize(
    ("label", "expected"),
    [
        ("Files", True),  # a plain string: the same in both languages
        ("ملفs", True),  # an Arabic singular with an English plural s
        ("العنوان [en]", True),
        ("GitHub", False),  # a proper name
        ("—", False),
    ],
)
def test_the_check_finds_what_is_left_in_english(label: str, expected: bool) -> None:
    assert untranslated(label) is expected


def test_the_admin_pages_render_in_arabic(admin_client: Any) -> None:
    index = admin_client.get("/admin/", HTTP_ACCEPT_LANGUAGE="ar").content.decode()
    heroes = admin_client.get("/admin/content/hero/add/", HTTP_ACCEPT_LANGUAGE="ar")
    page = heroes.content.decode()

    assert "اللافتات الرئيسية" in index  # "heroes", not "Heros" nor "لافتة رئيسيةs"
    assert "محتوى الموقع" in index  # the app's name
    assert "Heros" not in index
    assert "العنوان [الإنجليزيّة]" in page  # "Title [en]"
    assert "موعد النشر" in page  # "Publish at"
    assert "Publish at" not in page
