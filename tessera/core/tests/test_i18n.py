"""Error messages follow Accept-Language; the Arabic catalogue is complete and compiled."""

from __future__ import annotations

import ast
import gettext
import re
from pathlib import Path

import pytest
from django.conf import settings
from django.test import Client
from django.utils import translation

from tessera.core import errors
from tessera.core.tests.conftest import body

pytestmark = [pytest.mark.urls("tessera.core.tests.urls"), pytest.mark.django_db]

CATALOGUE = Path(settings.BASE_DIR) / "locale" / "ar" / "LC_MESSAGES"
CORE = Path(settings.BASE_DIR) / "tessera" / "core"
ARABIC_LETTER = re.compile(r"[\u0600-\u06FF]")


def po_entries(path: Path) -> dict[str, str]:
    """msgid -> msgstr of a .po file; a plural entry maps to its first form (`msgstr[0]`)."""
    entries: dict[str, str] = {}
    current: dict[str, list[str]] = {}
    field = ""
    for line in [*path.read_text(encoding="utf-8").splitlines(), ""]:
        if line.startswith(("msgid ", "msgstr ", "msgid_plural ", "msgstr[")):
            field, _, literal = line.partition(" ")
            current.setdefault(field, []).append(ast.literal_eval(literal))
        elif line.startswith('"'):
            current[field].append(ast.literal_eval(line))
        elif not line.strip() and current:
            translation = current.get("msgstr", current.get("msgstr[0]", []))
            entries["".join(current["msgid"])] = "".join(translation)
            current = {}
    entries.pop("", None)  # the header
    return entries


def po_plural_msgids(path: Path) -> set[str]:
    """The msgids of plural entries (those followed by `msgid_plural`)."""
    lines = path.read_text(encoding="utf-8").splitlines()
    found = set()
    for index, line in enumerate(lines):
        if line.startswith("msgid_plural "):
            start = index - 1
            while not lines[start].startswith("msgid "):
                start -= 1
            parts = [lines[start].partition(" ")[2], *lines[start + 1 : index]]
            found.add("".join(ast.literal_eval(part) for part in parts))
    return found


TRANSLATE_TAG = re.compile(r'{% translate "([^"]+)" %}')


def app_messages(*apps: Path) -> set[str]:
    """Every message the apps' own code marks for translation: string literals passed
    straight to `_()`, `gettext()` or `gettext_lazy()` (tests and migrations aside), and
    `{% translate "..." %}` in their templates."""
    found: set[str] = set()
    for app in apps:
        for source in app.rglob("*.py"):
            if {"tests", "migrations"} & set(source.relative_to(app).parts):
                continue
            for node in ast.walk(ast.parse(source.read_text(encoding="utf-8"))):
                if (
                    isinstance(node, ast.Call)
                    and isinstance(node.func, ast.Name)
                    and node.func.id in {"_", "gettext", "gettext_lazy"}
                    and node.args
                    and isinstance(node.args[0], ast.Constant)
                    and isinstance(node.args[0].value, str)
                ):
                    found.add(node.args[0].value)
        for template in app.rglob("*.html"):
            found.update(TRANSLATE_TAG.findall(template.read_text(encoding="utf-8")))
    return found


def core_messages() -> set[str]:
    return app_messages(CORE)


# --- Through the API --------------------------------------------------------------------------


def test_a_404_under_the_api_answers_in_arabic_when_asked(api):
    response = api.get("/api/no/such/route", HTTP_ACCEPT_LANGUAGE="ar")

    assert response.status_code == 404
    assert response["Content-Language"] == "ar"
    error = body(response)["error"]
    assert error["code"] == "not_found"
    assert error["message"] == "لا توجد نقطة نهاية في واجهة API تطابق هذا المسار."


def test_a_404_under_the_api_answers_in_english_by_default(api):
    response = api.get("/api/no/such/route")

    assert response["Content-Language"] == "en"
    assert body(response)["error"]["message"] == "No API route matches this path."


@pytest.mark.parametrize(
    ("accept_language", "message"),
    [
        ("ar-EG,ar;q=0.9,en;q=0.5", "يحتوي الطلب على بيانات غير صالحة."),
        ("en-GB,en;q=0.8", "The request contains invalid data."),
        ("fr-FR,fr;q=0.9", "The request contains invalid data."),
    ],
)
def test_validation_errors_follow_accept_language(api, accept_language, message):
    response = api.post("/api/_test/profiles", {}, HTTP_ACCEPT_LANGUAGE=accept_language)

    assert response.status_code == 422
    error = body(response)["error"]
    assert error["code"] == "validation_error"
    assert error["message"] == message


def test_errors_raised_by_routes_and_middleware_are_translated(api):
    raised = api.get("/api/_test/errors/forbidden", HTTP_ACCEPT_LANGUAGE="ar")
    not_allowed = api.put("/api/ping", {}, HTTP_ACCEPT_LANGUAGE="ar")
    not_json = api.post(
        "/api/_test/profiles", "a=b", content_type="text/plain", HTTP_ACCEPT_LANGUAGE="ar"
    )

    assert body(raised)["error"]["message"] == "ليست لديك صلاحية لتنفيذ هذا الإجراء."
    assert body(not_allowed)["error"]["message"] == (
        "طريقة الطلب هذه غير مسموح بها على هذا المسار."
    )
    assert body(not_json)["error"]["code"] == "unsupported_media_type"
    assert body(not_json)["error"]["message"].startswith("يجب أن يكون محتوى الطلب بصيغة JSON")


def test_one_arabic_request_does_not_leak_into_the_next(api):
    api.get("/api/no/such/route", HTTP_ACCEPT_LANGUAGE="ar")

    response = api.get("/api/no/such/route")

    assert body(response)["error"]["message"] == "No API route matches this path."


# --- The catalogue ----------------------------------------------------------------------------


def test_every_message_in_core_has_an_arabic_translation():
    entries = po_entries(CATALOGUE / "django.po")

    missing = sorted(message for message in core_messages() if not entries.get(message))
    assert missing == []
    assert all(ARABIC_LETTER.search(text) for text in entries.values())


def test_every_error_class_default_message_is_translated():
    classes = [cls for cls in vars(errors).values() if isinstance(cls, type)]
    error_classes = [cls for cls in classes if issubclass(cls, errors.ApplicationError)]
    assert len(error_classes) >= 10
    for error_class in error_classes:
        with translation.override("ar"):
            arabic = str(error_class.default_message)
        with translation.override("en"):
            english = str(error_class.default_message)
        assert arabic != english, error_class.__name__
        assert ARABIC_LETTER.search(arabic), error_class.__name__


def test_the_compiled_catalogue_matches_the_po_file():
    with (CATALOGUE / "django.mo").open("rb") as compiled:
        catalogue = gettext.GNUTranslations(compiled)

    entries = po_entries(CATALOGUE / "django.po")
    plurals = po_plural_msgids(CATALOGUE / "django.po")
    assert entries
    for msgid, msgstr in entries.items():
        if msgid in plurals:
            # Arabic has six plural forms; n=0 takes the first.
            assert catalogue.ngettext(msgid, msgid, 0) == msgstr, msgid
        else:
            assert catalogue.gettext(msgid) == msgstr, msgid
    assert catalogue.info()["language"] == "ar"


@pytest.mark.urls("tessera.core.tests.urls")
def test_lang_query_parameter_wins_over_accept_language(client: Client) -> None:
    arabic = client.get("/api/no-such-route?lang=ar", HTTP_ACCEPT_LANGUAGE="en")
    english = client.get("/api/no-such-route?lang=en", HTTP_ACCEPT_LANGUAGE="ar")
    unknown = client.get("/api/no-such-route?lang=xx", HTTP_ACCEPT_LANGUAGE="ar")

    assert arabic.json()["error"]["message"] == unknown.json()["error"]["message"]
    assert arabic.json()["error"]["message"] != english.json()["error"]["message"]
    assert english.json()["error"]["message"] == "No API route matches this path."
