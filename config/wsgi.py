import os
import sys

from django.core.wsgi import get_wsgi_application

os.environ.setdefault("DJANGO_SETTINGS_MODULE", "config.settings.dev")

django_application = get_wsgi_application()

from django.conf import settings  # noqa: E402

# Imported once Django is set up: the edge reads settings and the apps' handlers.
from tessera.core import edge  # noqa: E402

# Process-wide, so set here rather than in settings: only the web server's processes import
# this module (docs/decisions/0014-gil-switch-interval.md).
sys.setswitchinterval(settings.SERVER_SWITCH_INTERVAL_MS / 1000)

application = edge.wrap(django_application)
