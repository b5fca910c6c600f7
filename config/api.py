"""The one NinjaAPI, mounted at /api/, with every module's router."""

from django.conf import settings

from tessera.accounts.api import router as auth_router
from tessera.capsules.api import capsules_router, drafts_router, recipients_router
from tessera.content.api import router as content_router
from tessera.core.api import TesseraAPI
from tessera.core.api.system import router as system_router
from tessera.events.api import events_router, venues_router
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
        "fields}, timestamp}`. Keys are camelCase; snake_case is accepted on input."
    ),
    urls_namespace="api",
)

api.add_router("", system_router, tags=["system"])
api.add_router("/notifications", notifications_router, tags=["notifications"])
api.add_router("/tasks", tasks_router, tags=["tasks"])
api.add_router("/auth", auth_router, tags=["auth"])
api.add_router("/files", files_router, tags=["files"])
api.add_router("", content_router, tags=["content"])
api.add_router("/capsules", capsules_router, tags=["capsules"])
api.add_router("/drafts", drafts_router, tags=["capsules"])
api.add_router("/recipients", recipients_router, tags=["capsules"])
api.add_router("/events", events_router, tags=["events"])
api.add_router("/venues", venues_router, tags=["events"])
