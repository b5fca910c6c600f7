import gc
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

# What is loaded by now (Django, the apps, the URL map: several hundred thousand objects)
# lives as long as the process. Frozen, the collector's full passes skip it and walk only
# what requests made since: a pause of ~15 ms instead of ~120 ms, during which every thread
# of the process waits (docs/decisions/0041-gc-freeze-in-web-processes.md). Start-up's
# garbage is collected first, so none of it is frozen.
gc.collect()
gc.freeze()
