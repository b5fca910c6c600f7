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
from django.template.base import Node, TextNode, VariableNode
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
    return subject_line(render_text(source, context, language=language))


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


class _Hole:
    """`{{ name }}`: the item's value when it is a plain string (what Django would print
    unchanged), else the node rendered by Django."""

    __slots__ = ("name", "node")

    def __init__(self, name: str, node: Node) -> None:
        self.name = name
        self.node = node


_MISSING = object()


class TemplatePlan:
    """A template compiled once and filled in per item (`fill`), for sending one kind of
    message to many people.

    The template's text is kept as it is; a `{{ name }}` takes the item's string; any other
    part (a tag, a filter, a dotted name, a value that is not a plain string) is rendered
    by Django for that item. The result is exactly `render_text(source, context)` (a
    property test compares the two); call `fill` inside `translation.override(language)`.
    """

    def __init__(self, source: str) -> None:
        try:
            self.template = _compile(source)
        except TemplateSyntaxError as exc:
            raise TemplateRenderError(
                gettext("Template syntax error: %(error)s") % {"error": exc}
            ) from exc
        parts: list[str | _Hole | Node] = []
        for node in self.template.nodelist:
            if isinstance(node, TextNode):
                if parts and isinstance(parts[-1], str):
                    parts[-1] += node.s
                else:
                    parts.append(node.s)
                continue
            expression = getattr(node, "filter_expression", None)
            lookups = getattr(getattr(expression, "var", None), "lookups", None)
            if (
                isinstance(node, VariableNode)
                and expression is not None
                and not expression.filters
                and lookups is not None
                and len(lookups) == 1
            ):
                parts.append(_Hole(lookups[0], node))
            else:
                parts.append(node)
        self.parts = tuple(parts)
        # A template of text only is the same for everyone.
        texts = [part for part in parts if isinstance(part, str)]
        self.constant: str | None = "".join(texts) if len(texts) == len(parts) else None

    def _render(self, node: Node, context: Context) -> str:
        try:
            with context.render_context.push_state(self.template):
                return str(node.render_annotated(context))
        except (TemplateSyntaxError, TemplateDoesNotExist) as exc:
            raise TemplateRenderError(
                gettext("Template syntax error: %(error)s") % {"error": exc}
            ) from exc

    def fill(self, values: dict[str, Any]) -> str:
        if self.constant is not None:
            return self.constant
        out: list[str] = []
        # Made at the first part Django renders, then shared by the parts after it as in
        # a whole render (a tag may set a variable a later part prints).
        context: Context | None = None
        for part in self.parts:
            if type(part) is str:
                out.append(part)
                continue
            node = part
            if type(part) is _Hole:
                value = values.get(part.name, _MISSING) if context is None else _MISSING
                if type(value) is str:
                    out.append(value)
                    continue
                node = part.node
            if context is None:
                # A copy: a tag may set a variable, which must not leak into the caller's
                # values (the next channel's template renders from them too).
                context = Context(dict(values), autoescape=False)
                context.template = self.template
            out.append(self._render(node, context))  # type: ignore[arg-type]
        return "".join(out)


def subject_line(text: str) -> str:
    """A subject is one line (mail headers refuse line breaks) of at most 255 characters."""
    return _WHITESPACE.sub(" ", text).strip()[:255]
