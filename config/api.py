"""The one NinjaAPI, mounted at /api/, with the platform's routers and those of the products
turned on by TESSERA_PRODUCTS (config/settings/integrations/products.py)."""

import importlib

from django.conf import settings
from ninja import Router

from tessera.accounts.api import router as auth_router
from tessera.core.api import TesseraAPI
from tessera.core.api.system import router as system_router
from tessera.files.api import router as files_router
from tessera.notifications.api import router as notifications_router
from tessera.tasks.api import router as tasks_router

api = TesseraAPI(
    title="Tessera API",
    version=settings.TESSERA_VERSION,
    description=(
        "One backend for accounts, website content, time capsules, a wallet and social "
        "events. Every reply is wrapped in an envelope: "
        "`{status, data, message, timestamp}` or `{status: error, error: {code, message, "
        "fields}, timestamp}`. Keys are camelCase; snake_case is accepted on input. A field a "
        "body does not take is refused (422 `unknown_field`); a POST, PUT or PATCH that takes "
        "no body refuses one (422 `body_not_accepted`; an empty body or `{}` is no body)."
    ),
    urls_namespace="api",
)

api.add_router("", system_router, tags=["system"])
api.add_router("/notifications", notifications_router, tags=["notifications"])
api.add_router("/tasks", tasks_router, tags=["tasks"])
api.add_router("/auth", auth_router, tags=["auth"])
api.add_router("/files", files_router, tags=["files"])


def _router(path: str) -> Router:
    module, _, attribute = path.partition(":")
    router = getattr(importlib.import_module(module), attribute)
    if not isinstance(router, Router):
        raise TypeError(f"{path} is not a Ninja Router")
    return router


for prefix, router_path, tag in settings.PRODUCT_ROUTERS:
    api.add_router(prefix, _router(router_path), tags=[tag])
