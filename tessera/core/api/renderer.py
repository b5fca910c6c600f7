from __future__ import annotations

from typing import Any

from django.http import HttpRequest
from ninja.renderers import BaseRenderer

from tessera.core.envelope import dumps


class OrjsonRenderer(BaseRenderer):
    media_type = "application/json"
    charset = "utf-8"

    def render(self, request: HttpRequest, data: Any, *, response_status: int) -> Any:
        return dumps(data)
