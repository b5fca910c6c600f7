import gc
import os
import sys

from django.core.wsgi import get_wsgi_application

os.environ.setdefault("DJANGO_SETTINGS_MODULE", "config.settings.dev")

django_application = get_wsgi_application()

from django.conf import settings  # noqa: E402
from django.urls import get_resolver  # noqa: E402

# Imported once Django is set up: the edge reads settings and the apps' handlers.
from tessera.core import edge  # noqa: E402

# Process-wide, so set here rather than in settings: only the web server's processes import
# this module (docs/decisions/0014-gil-switch-interval.md).
sys.setswitchinterval(settings.SERVER_SWITCH_INTERVAL_MS / 1000)

application = edge.wrap(django_application)

# Django imports the URLconf — every app's api module, the NinjaAPI and its schemas — on the
# first request it serves, not at start-up: ~300 ms in which both of a fresh worker's threads
# wait on the import and every connection queued on that worker waits behind them (a cold
# /health/ p99 of 150-220 ms at 64 connections against 23-50 ms warm), and ~31,000 objects
# that would otherwise stay outside the freeze below and be walked by every full collection
# (docs/decisions/0042-load-the-urlconf-before-serving.md).
get_resolver().url_patterns  # noqa: B018 - the cached property imports the URLconf
get_resolver().reverse_dict  # noqa: B018 - and builds the reverse map `reverse()` reads

# What is loaded by now (Django, the apps, the URLconf: several hundred thousand objects)
# lives as long as the process. Frozen, the collector's full passes skip it and walk only
# what requests made since: a pause of ~15 ms instead of ~120 ms, during which every thread
# of the process waits (docs/decisions/0041-gc-freeze-in-web-processes.md). Start-up's
# garbage is collected first, so none of it is frozen.
gc.collect()
gc.freeze()
