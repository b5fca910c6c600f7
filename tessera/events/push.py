"""The push-notification seam: a back end named by `EVENTS_PUSH_BACKEND` gets every in-app
notification this module sends, to forward to the person's devices.

Tessera keeps no device tokens yet, so the default back end only logs; a real one (FCM,
APNs) subclasses `PushBackend` and is named in the setting. `MemoryPushBackend` keeps what
it was given, for tests.
"""

from __future__ import annotations

from functools import lru_cache
from typing import Any, ClassVar

import structlog
from django.conf import settings
from django.utils.module_loading import import_string

logger = structlog.get_logger("tessera.events.push")


class PushBackend:
    def send(self, *, user_id: str, kind: str, title: str, body: str, data: dict[str, Any]) -> None:
        raise NotImplementedError

    def send_many(self, *, kind: str, messages: list[dict[str, str]], data: dict[str, Any]) -> None:
        """A batch of messages (`user_id`, `title`, `body`); a real back end sends them in
        one call to its provider where it can."""
        for message in messages:
            self.send(
                user_id=message["user_id"],
                kind=kind,
                title=message["title"],
                body=message["body"],
                data=data,
            )


class LogPushBackend(PushBackend):
    def send(self, *, user_id: str, kind: str, title: str, body: str, data: dict[str, Any]) -> None:
        logger.info("push", user_id=user_id, kind=kind, title=title)


class MemoryPushBackend(PushBackend):
    sent: ClassVar[list[dict[str, Any]]] = []

    def send(self, *, user_id: str, kind: str, title: str, body: str, data: dict[str, Any]) -> None:
        self.sent.append(
            {"user_id": user_id, "kind": kind, "title": title, "body": body, "data": data}
        )


@lru_cache(maxsize=4)
def _backend(path: str) -> PushBackend:
    backend: PushBackend = import_string(path)()
    return backend


def push_backend() -> PushBackend:
    return _backend(settings.EVENTS_PUSH_BACKEND)
