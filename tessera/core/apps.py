from __future__ import annotations

from typing import Any

from django.apps import AppConfig
from django.conf import settings
from django.core import checks

# Django's deploy checks security.W002 and security.W003 look for these exact dotted paths;
# Tessera lists subclasses that skip the API (tessera.core.middleware.Browser*), so settings
# silence those two and the check below takes their place, accepting either spelling.
_BROWSER_MIDDLEWARE = {
    "tessera.W002": (
        "django.middleware.clickjacking.XFrameOptionsMiddleware",
        "tessera.core.middleware.BrowserXFrameOptionsMiddleware",
        "pages will not be served with an X-Frame-Options header",
    ),
    "tessera.W003": (
        "django.middleware.csrf.CsrfViewMiddleware",
        "tessera.core.middleware.BrowserCsrfViewMiddleware",
        "forms in the admin and other HTML pages lose CSRF protection",
    ),
}


def check_browser_middleware(app_configs: Any = None, **kwargs: Any) -> list[checks.CheckMessage]:
    middleware = set(settings.MIDDLEWARE)
    return [
        checks.Warning(
            f"Neither {django_path} nor {tessera_path} is in MIDDLEWARE: {consequence}.",
            id=check_id,
        )
        for check_id, (django_path, tessera_path, consequence) in _BROWSER_MIDDLEWARE.items()
        if not middleware & {django_path, tessera_path}
    ]


class CoreConfig(AppConfig):
    name = "tessera.core"
    label = "core"
    verbose_name = "Core"

    def ready(self) -> None:
        checks.register(check_browser_middleware, checks.Tags.security, deploy=True)
