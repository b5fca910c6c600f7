"""Production: no secret defaults, HTTPS everywhere, refuses to start when misconfigured."""

from django.core.exceptions import ImproperlyConfigured

from config.settings.base import *
from config.settings.checks import (
    require_real_delivery,
    require_strong_jwt_keys,
    require_strong_secret,
)

SECRET_KEY = env.str("DJANGO_SECRET_KEY", default="")
if not SECRET_KEY:
    raise ImproperlyConfigured(
        "DJANGO_SECRET_KEY must be set to a random value of at least 50 characters in production."
    )
require_strong_secret("DJANGO_SECRET_KEY", SECRET_KEY, min_length=50)
# base.py read the same variable, so an unset JWT_SIGNING_KEYS means {"k1": SECRET_KEY}.
require_strong_jwt_keys(JWT_SIGNING_KEYS, JWT_ACTIVE_KEY_ID)
DEBUG = env.bool("DJANGO_DEBUG", default=False)
if DEBUG:
    raise ImproperlyConfigured("DJANGO_DEBUG must be off in production.")
ALLOWED_HOSTS = env.list("DJANGO_ALLOWED_HOSTS", default=[])
if not ALLOWED_HOSTS:
    raise ImproperlyConfigured("DJANGO_ALLOWED_HOSTS must name the hosts this site serves.")
require_real_delivery(
    email_backend=EMAIL_BACKEND, sms_backend=SMS_BACKEND, allowed=ALLOW_CONSOLE_DELIVERY
)

SECURE_SSL_REDIRECT = env.bool("SECURE_SSL_REDIRECT", default=True)
# Load balancers probe /health/ over plain HTTP; gateways call webhooks/ from inside the
# network and would not follow a redirect of a POST (a webhook is authenticated by its
# signature, not by the transport; from outside, Nginx's port 80 redirects everything).
SECURE_REDIRECT_EXEMPT = [r"^health/", r"^webhooks/"]
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
