"""Rendering notification templates: Django template syntax on a standalone engine.

The engine has no template loaders, so a stored template cannot include or extend files
from disk, and it does not autoescape: email text, SMS and in-app text are plain text,
and escaping would turn "&" into "&amp;" in an SMS.
"""

from __future__ import annotations

import re
from typing import Any

from django.conf import settings
from django.template import Context, Engine, Template, TemplateDoesNotExist, TemplateSyntaxError
from django.utils import translation
from django.utils.translation import gettext

from tessera.notifications.errors import TemplateRenderError

_engine = Engine(
    libraries={
        "i18n": "django.templatetags.i18n",
        "l10n": "django.templatetags.l10n",
        "tz": "django.templatetags.tz",
    },
    autoescape=False,
)
_WHITESPACE = re.compile(r"\s+")


def _compile(source: str) -> Template:
    return _engine.from_string(source)


def template_errors(*, subject: str, body: str) -> dict[str, str]:
    """The syntax error of each part that does not compile, keyed by field name."""
    errors: dict[str, str] = {}
    for field, source in (("subject", subject), ("body", body)):
        try:
            _compile(source)
        except TemplateSyntaxError as exc:
            errors[field] = gettext("Template syntax error: %(error)s") % {"error": exc}
    return errors


def render_text(source: str, context: dict[str, Any], *, language: str) -> str:
    """Render `source` with `context` in `language` (for translated filters and dates)."""
    try:
        with translation.override(language):
            return _compile(source).render(Context(context, autoescape=False))
    except (TemplateSyntaxError, TemplateDoesNotExist) as exc:
        raise TemplateRenderError(
            gettext("Template syntax error: %(error)s") % {"error": exc}
        ) from exc


def render_subject(source: str, context: dict[str, Any], *, language: str) -> str:
    """A subject is one line (mail headers refuse line breaks) of at most 255 characters."""
    return _WHITESPACE.sub(" ", render_text(source, context, language=language)).strip()[:255]


def language_supported(code: str | None) -> str | None:
    """`ar-EG` → `ar`; a language Tessera does not offer → None."""
    if not code:
        return None
    base = code.strip().lower().replace("_", "-").split("-")[0]
    return base if base in dict(settings.LANGUAGES) else None


def language_resolve(*, requested: str | None, user: Any = None) -> str:
    """The requested language, else the user's own, else the site default (English)."""
    return (
        language_supported(requested)
        or language_supported(getattr(user, "language", None))
        or settings.LANGUAGE_CODE
    )
