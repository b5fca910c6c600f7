"""Production: no secret defaults, HTTPS everywhere, refuses to start when misconfigured."""

from django.core.exceptions import ImproperlyConfigured

from config.settings.base import *

_DEFAULT_SECRET = "insecure-development-key-set-DJANGO_SECRET_KEY-in-production"  # noqa: S105

SECRET_KEY = env.str("DJANGO_SECRET_KEY", default="")
if not SECRET_KEY or SECRET_KEY == _DEFAULT_SECRET or len(SECRET_KEY) < 50:
    raise ImproperlyConfigured(
        "DJANGO_SECRET_KEY must be set to a random value of at least 50 characters in production."
    )
DEBUG = env.bool("DJANGO_DEBUG", default=False)
if DEBUG:
    raise ImproperlyConfigured("DJANGO_DEBUG must be off in production.")
ALLOWED_HOSTS = env.list("DJANGO_ALLOWED_HOSTS", default=[])
if not ALLOWED_HOSTS:
    raise ImproperlyConfigured("DJANGO_ALLOWED_HOSTS must name the hosts this site serves.")

SECURE_SSL_REDIRECT = env.bool("SECURE_SSL_REDIRECT", default=True)
SECURE_REDIRECT_EXEMPT = [r"^health/"]
SECURE_PROXY_SSL_HEADER = ("HTTP_X_FORWARDED_PROTO", "https")
SECURE_HSTS_SECONDS = env.int("SECURE_HSTS_SECONDS", default=31_536_000)
SECURE_HSTS_INCLUDE_SUBDOMAINS = True
SECURE_HSTS_PRELOAD = env.bool("SECURE_HSTS_PRELOAD", default=True)
SESSION_COOKIE_SECURE = True
CSRF_COOKIE_SECURE = True
SESSION_COOKIE_HTTPONLY = True
METRICS_ALLOWED_IPS = env.list("METRICS_ALLOWED_IPS", default=[])
STORAGES["staticfiles"] = {"BACKEND": "whitenoise.storage.CompressedManifestStaticFilesStorage"}
WHITENOISE_USE_FINDERS = False

payments_production_check(globals())
if not EVENTS_KEY_ENCRYPTION_KEYS:
    raise ImproperlyConfigured(
        "EVENTS_KEY_ENCRYPTION_KEYS must hold at least one secret in production: it encrypts the "
        "hosts' ticket-signing keys (derived from DJANGO_SECRET_KEY, a rotated secret key would "
        "make them unreadable)."
    )
