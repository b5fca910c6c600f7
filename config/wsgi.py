import os

from django.core.wsgi import get_wsgi_application

os.environ.setdefault("DJANGO_SETTINGS_MODULE", "config.settings.dev")

django_application = get_wsgi_application()

# Imported once Django is set up: the edge reads settings and the apps' handlers.
from tessera.core import edge  # noqa: E402

application = edge.wrap(django_application)
