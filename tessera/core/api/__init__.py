"""API wiring shared by every module: the NinjaAPI subclass, schemas, errors, pagination."""

from tessera.core.api.factory import TesseraAPI
from tessera.core.api.routers import ApiRouter
from tessera.core.api.schemas import (
    AwareInstant,
    CamelSchema,
    InputSchema,
    Instant,
    Omittable,
    omittable,
)

__all__ = [
    "ApiRouter",
    "AwareInstant",
    "CamelSchema",
    "InputSchema",
    "Instant",
    "Omittable",
    "TesseraAPI",
    "omittable",
]
