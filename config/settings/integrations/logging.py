"""structlog: one JSON line per event, with the request id (or task id) bound."""

import logging
from typing import Any

import structlog

from config.settings.env import env
from tessera.core import redaction

# Every log record is redacted as it is made (tokens, passwords, Authorization and Cookie
# values, the token of a signed file link): whichever handler receives it, the credential is
# already gone (tessera/core/redaction.py).
redaction.install(secret_path_prefixes=("/files/private/", "/files/uploads/"))

_LOG_LEVEL = env.str("LOG_LEVEL", default="INFO").upper()
_LOG_FORMAT = env.str("LOG_FORMAT", default="json")

_shared_processors: list[Any] = [
    structlog.contextvars.merge_contextvars,
    structlog.stdlib.add_log_level,
    structlog.stdlib.add_logger_name,
    structlog.processors.TimeStamper(fmt="iso", utc=True),
]

structlog.configure(
    processors=[
        *_shared_processors,
        structlog.stdlib.ProcessorFormatter.wrap_for_formatter,
    ],
    logger_factory=structlog.stdlib.LoggerFactory(),
    wrapper_class=structlog.make_filtering_bound_logger(
        logging.getLevelNamesMapping().get(_LOG_LEVEL, logging.INFO)
    ),
    cache_logger_on_first_use=True,
)

LOGGING = {
    "version": 1,
    "disable_existing_loggers": False,
    "formatters": {
        "structured": {
            "()": structlog.stdlib.ProcessorFormatter,
            "processors": [
                structlog.stdlib.ProcessorFormatter.remove_processors_meta,
                structlog.processors.format_exc_info,
                structlog.processors.JSONRenderer()
                if _LOG_FORMAT == "json"
                else structlog.dev.ConsoleRenderer(colors=False),
            ],
            "foreign_pre_chain": _shared_processors,
        },
    },
    "handlers": {
        "console": {"class": "logging.StreamHandler", "formatter": "structured"},
    },
    "root": {"handlers": ["console"], "level": _LOG_LEVEL},
    "loggers": {
        "django.server": {"level": "WARNING"},
        "django.request": {"level": "ERROR"},
        "tessera.access": {"level": env.str("ACCESS_LOG_LEVEL", default="INFO").upper()},
        "celery": {"level": _LOG_LEVEL},
    },
}
