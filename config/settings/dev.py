"""The embedded default for `make run`: debug on, readable logs, console email and SMS."""

import os

os.environ.setdefault("LOG_FORMAT", "console")

from config.settings.base import *

DEBUG = env.bool("DJANGO_DEBUG", default=True)
