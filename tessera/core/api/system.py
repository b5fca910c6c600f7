"""Platform routes that belong to no module: a cheap ping and the API's version."""

from __future__ import annotations

from django.conf import settings
from django.http import HttpRequest

from tessera.core.api.routers import ApiRouter
from tessera.core.api.schemas import CamelSchema

router = ApiRouter()


class PingOut(CamelSchema):
    pong: bool
    version: str


@router.get("/ping", response=PingOut, summary="Liveness of the API stack itself")
def ping(request: HttpRequest) -> PingOut:
    return PingOut(pong=True, version=settings.TESSERA_VERSION)
