"""The client's file name: kept for display and downloads only, never used as a storage key.

A name with path parts, control or formatting characters (including bidirectional
overrides that disguise an extension) or over 255 characters is refused rather than
silently changed, so the client learns what it sent was wrong.
"""

from __future__ import annotations

import html
import unicodedata

from django.utils.translation import gettext as _

from tessera.files.errors import InvalidFileNameError

MAX_NAME_LENGTH = 255
DEFAULT_NAME = "upload"


def file_name_problem(raw: str) -> str | None:
    """Why `raw` is not acceptable as a file name, or None when it is."""
    if len(raw) > MAX_NAME_LENGTH:
        return _("The file name is longer than %(limit)d characters.") % {"limit": MAX_NAME_LENGTH}
    if "/" in raw or "\\" in raw:
        return _("The file name must not contain path separators.")
    if any(unicodedata.category(char).startswith("C") for char in raw):
        return _("The file name must not contain control or formatting characters.")
    if raw.strip() in {".", ".."}:
        return _("The file name is not valid.")
    return None


def file_name_clean(raw: str | None) -> str:
    """A displayable name: NFC-normalised, trimmed, checked. Raises InvalidFileNameError."""
    if raw is None:
        return DEFAULT_NAME
    problem = file_name_problem(raw)
    if problem:
        raise InvalidFileNameError(problem, fields={"file": problem})
    cleaned = unicodedata.normalize("NFC", raw).strip().lstrip(".")
    return cleaned[:MAX_NAME_LENGTH] or DEFAULT_NAME


def multipart_name_check(raw: str) -> None:
    """Check a name exactly as it arrived in a multipart part (HTML entities decoded, as
    Django decodes them)."""
    problem = file_name_problem(html.unescape(raw))
    if problem:
        raise InvalidFileNameError(problem, fields={"file": problem})
