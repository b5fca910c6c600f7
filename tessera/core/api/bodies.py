"""A POST, PUT or PATCH route that takes no body refuses one.

A route with a body schema refuses fields it does not know (`unknown_field`, the schemas'
`extra="forbid"`); a route with no body at all used to ignore whatever was sent, so a client
sending `{"reason": "…"}` to an action such as `…/cancel` believed it had been read. Every
operation of a `TesseraAPI` is wrapped here once (`NinjaAPI.add_decorator`, mode
"operation": after authentication and parameter validation, before the route runs): one
that declares no body answers 422 `body_not_accepted` (field `body`) to a non-empty body. An
empty body, whitespace, `{}` and a form with no field are no body (clients and tools send
them by default).

An operation "takes a body" when it has a body, form or file parameter, or documents a
`requestBody` of its own in `openapi_extra` (a multipart upload read by the route itself).
"""

from __future__ import annotations

import re
from collections.abc import Callable
from functools import wraps
from typing import Any

from django.http import HttpRequest
from django.http.multipartparser import MultiPartParserError
from django.http.request import RawPostDataException
from django.utils.translation import gettext as _
from ninja.operation import Operation

from tessera.core.errors import CoreErrorCode, InvalidInputError

CHECKED_METHODS = frozenset({"POST", "PUT", "PATCH"})
BODY_SOURCES = frozenset({"body", "form", "file"})
# JSON's own whitespace around an optional empty object.
_FORM_TYPES = frozenset({"multipart/form-data", "application/x-www-form-urlencoded"})
_NO_BODY = re.compile(rb"[ \t\r\n]*(?:\{[ \t\r\n]*\}[ \t\r\n]*)?")


def takes_body(operation: Operation) -> bool:
    if any(
        getattr(model, "__ninja_param_source__", None) in BODY_SOURCES for model in operation.models
    ):
        return True
    return "requestBody" in (operation.openapi_extra or {})


def refuses_body(operation: Operation) -> bool:
    """Whether `operation` answers `body_not_accepted` to a body on some method it serves."""
    return not takes_body(operation) and bool(CHECKED_METHODS & set(operation.methods))


def _has_body(request: HttpRequest) -> bool:
    if request.content_type in _FORM_TYPES:
        # A form with no field (what a bare `<form method=post>` or Django's test client
        # sends): its encoding is not empty, but it holds nothing.
        try:
            return bool(request.POST) or bool(request.FILES)
        except (MultiPartParserError, ValueError):
            return True
    try:
        return _NO_BODY.fullmatch(request.body) is None
    except RawPostDataException:  # read as a form already: it was one
        return True


def body_not_accepted() -> InvalidInputError:
    return InvalidInputError(
        _("This request takes no body."),
        code=CoreErrorCode.BODY_NOT_ACCEPTED,
        fields={"body": _("Send no body, or an empty JSON object ({}).")},
    )


def refuse_body_when_none_is_taken(view_func: Callable[..., Any]) -> Callable[..., Any]:
    """The operation decorator `TesseraAPI` installs on every route."""
    operation = getattr(view_func, "_ninja_operation", None)
    if not isinstance(operation, Operation):
        # Ninja marks every route function with its operation; without it the rule cannot
        # be decided, and a route escaping it silently is what this module prevents.
        raise TypeError(f"{view_func!r} is not a Ninja route function")
    if not refuses_body(operation):
        return view_func

    @wraps(view_func)
    def wrapper(request: HttpRequest, *args: Any, **kwargs: Any) -> Any:
        if request.method in CHECKED_METHODS and _has_body(request):
            raise body_not_accepted()
        return view_func(request, *args, **kwargs)

    wrapper.refuses_body = True  # type: ignore[attr-defined]
    return wrapper


__all__ = [
    "BODY_SOURCES",
    "CHECKED_METHODS",
    "body_not_accepted",
    "refuse_body_when_none_is_taken",
    "refuses_body",
    "takes_body",
]
