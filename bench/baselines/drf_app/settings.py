"""Settings of the DRF baseline: the plain-Django baseline's (startproject defaults) plus
`rest_framework`, rendering JSON only; every other DRF setting is its default."""

from bench.baselines.django_plain.settings import *  # noqa: F403
from bench.baselines.django_plain.settings import INSTALLED_APPS

INSTALLED_APPS = [*INSTALLED_APPS, "rest_framework"]
ROOT_URLCONF = "bench.baselines.drf_app.urls"
WSGI_APPLICATION = "bench.baselines.drf_app.wsgi.application"

REST_FRAMEWORK = {
    "DEFAULT_RENDERER_CLASSES": ["rest_framework.renderers.JSONRenderer"],
}
