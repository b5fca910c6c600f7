"""Staff signed in to the admin may call the API with their session cookie (and the CSRF
token), besides a bearer token. The API chain has no session middleware, so the session
is read here."""

from __future__ import annotations

from importlib import import_module
from typing import Any

from django.conf import settings
from django.contrib.auth import get_user
from django.http import HttpRequest
from ninja.errors import HttpError
from ninja.security import APIKeyCookie
from ninja.utils import check_csrf


class StaffSessionAuth(APIKeyCookie):
    param_name = settings.SESSION_COOKIE_NAME

    def _get_key(self, request: HttpRequest) -> str | None:
        key = request.COOKIES.get(self.param_name)
        if not key:
            return None  # no session at all: 401, not a CSRF 403
        if check_csrf(request):
            raise HttpError(403, "CSRF check failed.")
        return key

    def authenticate(self, request: HttpRequest, key: str | None) -> Any:
        if not key:
            return None
        engine = import_module(settings.SESSION_ENGINE)
        request.session = engine.SessionStore(key)
        user = get_user(request)
        if not user.is_authenticated or not user.is_active:
            return None
        request.user = user
        return user


staff_session_auth = StaffSessionAuth()
