"""The embedded default for `make run`: readable logs, console email and SMS.

Debug mode stays off unless asked for (`DJANGO_DEBUG=true`): with it on, Django answers an
unknown path with its technical 404 page, which lists every URL pattern, and an error with a
traceback page. Without it, the development server answers as production does: the
envelope under /api/, a plain 404 or 500 page elsewhere, tracebacks in the log.
"""

import os

os.environ.setdefault("LOG_FORMAT", "console")

from config.settings.base import *

DEBUG = env.bool("DJANGO_DEBUG", default=False)
