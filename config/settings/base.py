"""Settings shared by every environment. Every value comes from the environment.

With no variable set, Tessera runs on the embedded default: SQLite, the database
cache, a SQLite Celery broker, local files, console email and SMS.
"""

from pathlib import Path

from django.core.exceptions import ImproperlyConfigured
from django.utils.translation import gettext_lazy

from config.settings.env import BASE_DIR, VAR_DIR, env

SECRET_KEY = env.str(
    "DJANGO_SECRET_KEY", default="insecure-development-key-set-DJANGO_SECRET_KEY-in-production"
)
# Previous keys, still accepted when checking signatures (sessions, signed links, reset
# tokens) while DJANGO_SECRET_KEY rotates (docs/operations/secrets.md).
SECRET_KEY_FALLBACKS = env.list("DJANGO_SECRET_KEY_FALLBACKS", default=[])
DEBUG = env.bool("DJANGO_DEBUG", default=False)
ALLOWED_HOSTS = env.list("DJANGO_ALLOWED_HOSTS", default=["localhost", "127.0.0.1", "[::1]"])
TESSERA_VERSION = "0.1.0"
# The base URL `make run` serves at (it exports this to the processes it starts): links in
# emails point there when AUTH_FRONTEND_URL is not set (tessera/core/links.py).
TESSERA_SERVER_URL = env.str("TESSERA_SERVER_URL", default="")

DJANGO_APPS = [
    "modeltranslation",  # before the admin, which it patches
    "django.contrib.admin",
    "django.contrib.auth",
    "django.contrib.contenttypes",
    "django.contrib.sessions",
    "django.contrib.messages",
    "django.contrib.staticfiles",
    "django.contrib.postgres",  # search and trigram lookups (used on PostgreSQL only)
]
THIRD_PARTY_APPS = [
    "ninja",
    "django_prometheus",
    "corsheaders",
    "django_celery_beat",
    "anymail",
    "simple_history",
]
LOCAL_APPS = [
    "tessera.core",
    "tessera.accounts",
    "tessera.audit",
    "tessera.notifications",
    "tessera.tasks",
    "tessera.files",
    "tessera.payments",
]
# Product apps (content, capsules, …) are chosen by TESSERA_PRODUCTS: their registry is in
# config/settings/integrations/products.py, not here.
from config.settings.integrations.products import *  # noqa: E402

INSTALLED_APPS = DJANGO_APPS + THIRD_PARTY_APPS + LOCAL_APPS + PRODUCT_APPS

# API requests (under API_PREFIX) and webhook deliveries (under WEBHOOK_PREFIX) leave this
# list at its first entry and take API_MIDDLEWARE instead: sessions, CSRF, messages and the
# session user serve only the admin and other HTML pages (see tessera.core.middleware,
# docs/decisions/0003-lean-api-middleware.md and 0039-lean-webhook-intake.md).
MIDDLEWARE = [
    "tessera.core.middleware.ApiRoutingMiddleware",
    "tessera.core.middleware.RequestContextMiddleware",
    "django.middleware.security.SecurityMiddleware",
    "tessera.core.middleware.SecurityHeadersMiddleware",
    "corsheaders.middleware.CorsMiddleware",
    "whitenoise.middleware.WhiteNoiseMiddleware",
    "django.contrib.sessions.middleware.SessionMiddleware",
    "tessera.core.middleware.LocaleMiddleware",
    "django.middleware.common.CommonMiddleware",
    "django.middleware.csrf.CsrfViewMiddleware",
    "django.contrib.auth.middleware.AuthenticationMiddleware",
    "django.contrib.messages.middleware.MessageMiddleware",
    "django.middleware.clickjacking.XFrameOptionsMiddleware",
]
API_MIDDLEWARE = [
    "tessera.core.middleware.ApiMiddleware",
    "tessera.core.middleware.ApiCorsMiddleware",
]
API_PREFIX = "/api/"
# A gateway's webhook deliveries are server-to-server POSTs authenticated by their signature:
# they take API_MIDDLEWARE too (request id, security headers, host check, body limit, access
# log, metrics, the error envelope), not the HTML list, and neither the default per-IP rate
# limit nor CORS (docs/decisions/0039-lean-webhook-intake.md).
WEBHOOK_PREFIX = "/webhooks/"
LEAN_PATH_PREFIXES = [API_PREFIX, WEBHOOK_PREFIX]

ROOT_URLCONF = "config.urls"
WSGI_APPLICATION = "config.wsgi.application"
AUTH_USER_MODEL = "accounts.User"
DEFAULT_AUTO_FIELD = "django.db.models.BigAutoField"

TEMPLATES = [
    {
        "BACKEND": "django.template.backends.django.DjangoTemplates",
        "DIRS": [BASE_DIR / "templates"],
        "APP_DIRS": True,
        "OPTIONS": {
            "context_processors": [
                "django.template.context_processors.request",
                "django.contrib.auth.context_processors.auth",
                "django.contrib.messages.context_processors.messages",
            ],
        },
    },
]

# --- Database -------------------------------------------------------------------------------
# psycopg prepares a statement only when asked (`execute(..., prepare=True)`, as the capsule
# inbox's page statement is): Django's default (None) turns preparing off altogether, and
# Django's own client-side-binding cursors never prepare, so nothing else changes.
POSTGRES_PREPARE_EXPLICIT_ONLY = 2**31 - 1
VAR_DIR.mkdir(parents=True, exist_ok=True)
DATABASE_URL = env.str("DATABASE_URL", default=f"sqlite:///{VAR_DIR / 'db.sqlite3'}")
DATABASES = {"default": env.db_url_config(DATABASE_URL)}
DB_POOL_MAX_SIZE = env.int("DB_POOL_MAX_SIZE", default=8)
if DATABASES["default"]["ENGINE"] == "django.db.backends.sqlite3":
    DATABASES["default"]["OPTIONS"] = {
        "transaction_mode": "IMMEDIATE",
        "timeout": 20,
        "init_command": (
            "PRAGMA journal_mode=WAL; PRAGMA synchronous=NORMAL; PRAGMA busy_timeout=20000;"
        ),
    }
elif DATABASES["default"]["ENGINE"] == "django.db.backends.postgresql":
    DATABASES["default"]["CONN_MAX_AGE"] = 0  # the pool owns connection reuse
    DATABASES["default"]["OPTIONS"] = {
        "pool": {"min_size": 1, "max_size": DB_POOL_MAX_SIZE, "timeout": 10},
        "prepare_threshold": POSTGRES_PREPARE_EXPLICIT_ONLY,
    }
DATABASES["default"]["ATOMIC_REQUESTS"] = False

# --- Cache ----------------------------------------------------------------------------------
REDIS_URL = env.str("REDIS_URL", default="")
# Two systems sharing one Redis database keep apart by prefix (the tests' `make run` does).
CACHE_KEY_PREFIX = env.str("CACHE_KEY_PREFIX", default="tessera")
# A dead cache must fail fast: a server that does not accept the connection within
# REDIS_CONNECT_TIMEOUT_SECONDS, or does not answer a command within
# REDIS_SOCKET_TIMEOUT_SECONDS, is an outage (served from the database, reported once per
# OUTAGE_LOG_INTERVAL_SECONDS: tessera/core/outages.py), not a request left hanging.
REDIS_CACHE_OPTIONS = {
    "socket_connect_timeout": env.float("REDIS_CONNECT_TIMEOUT_SECONDS", default=0.25),
    "socket_timeout": env.float("REDIS_SOCKET_TIMEOUT_SECONDS", default=1.0),
}
OUTAGE_LOG_INTERVAL_SECONDS = env.float("OUTAGE_LOG_INTERVAL_SECONDS", default=60.0)
if REDIS_URL:
    CACHES = {
        "default": {
            "BACKEND": "tessera.core.cache.PooledRedisCache",
            "LOCATION": REDIS_URL,
            "KEY_PREFIX": CACHE_KEY_PREFIX,
            "OPTIONS": REDIS_CACHE_OPTIONS,
        }
    }
else:
    CACHES = {
        "default": {
            "BACKEND": "django.core.cache.backends.db.DatabaseCache",
            "LOCATION": "tessera_cache",
            "KEY_PREFIX": CACHE_KEY_PREFIX,
            "OPTIONS": {"MAX_ENTRIES": 100_000},
        }
    }

# --- Passwords ------------------------------------------------------------------------------
PASSWORD_HASHERS = [
    "django.contrib.auth.hashers.Argon2PasswordHasher",
    "django.contrib.auth.hashers.PBKDF2PasswordHasher",
]
AUTH_PASSWORD_VALIDATORS = [
    {"NAME": "django.contrib.auth.password_validation.UserAttributeSimilarityValidator"},
    {"NAME": "django.contrib.auth.password_validation.MinimumLengthValidator"},
    {"NAME": "django.contrib.auth.password_validation.CommonPasswordValidator"},
    {"NAME": "django.contrib.auth.password_validation.NumericPasswordValidator"},
]

# --- Languages and time ---------------------------------------------------------------------
LANGUAGE_CODE = "en"
LANGUAGES = [("en", gettext_lazy("English")), ("ar", gettext_lazy("Arabic"))]


def _translated_field_label(verbose_name: object, language: str) -> str:
    """The admin's label of a translated column: "Title [English]", "العنوان [الإنجليزية]"
    (django-modeltranslation calls this lazily, in the language the page is shown in)."""
    from django.utils.translation import get_language_info

    return f"{verbose_name} [{get_language_info(language)['name_translated']}]"


MODELTRANSLATION_BUILD_LOCALIZED_VERBOSE_NAME = _translated_field_label
LOCALE_PATHS = [BASE_DIR / "locale"]
USE_I18N = True
TIME_ZONE = "UTC"
USE_TZ = True

# --- Static and media -----------------------------------------------------------------------
STATIC_URL = "/static/"
STATIC_ROOT = Path(env.str("STATIC_ROOT", default=str(VAR_DIR / "static")))
STATIC_ROOT.mkdir(parents=True, exist_ok=True)
MEDIA_URL = "/media/"
MEDIA_ROOT = Path(env.str("MEDIA_ROOT", default=str(VAR_DIR / "media")))
STORAGES = {
    "default": {"BACKEND": "django.core.files.storage.FileSystemStorage"},
    "staticfiles": {"BACKEND": "whitenoise.storage.CompressedStaticFilesStorage"},
}
WHITENOISE_USE_FINDERS = True
WHITENOISE_AUTOREFRESH = False

# --- API ------------------------------------------------------------------------------------
API_MAX_BODY_BYTES = env.int("API_MAX_BODY_BYTES", default=1024 * 1024)
DATA_UPLOAD_MAX_MEMORY_SIZE = API_MAX_BODY_BYTES
API_PAGE_SIZE_DEFAULT = env.int("API_PAGE_SIZE_DEFAULT", default=20)
API_PAGE_SIZE_MAX = env.int("API_PAGE_SIZE_MAX", default=100)
IDEMPOTENCY_TTL_SECONDS = env.int("IDEMPOTENCY_TTL_SECONDS", default=24 * 3600)
# A key still "processing" this long after its request began belongs to a process that died:
# the next request with it runs again (tessera/core/idempotency.py).
IDEMPOTENCY_ABANDONED_SECONDS = env.int("IDEMPOTENCY_ABANDONED_SECONDS", default=300)

# --- Money ----------------------------------------------------------------------------------
# ISO 4217 codes accepted for payments, wallets and ticket prices (tessera/core/money.py).
MONEY_CURRENCIES = env.list("MONEY_CURRENCIES", default=["ZAR", "USD", "EUR", "GBP"])

# --- Web server processes -------------------------------------------------------------------


def _switch_interval_ms() -> float:
    raw = env.str("SERVER_SWITCH_INTERVAL_MS", default="0.2")
    try:
        value = float(raw)
    except ValueError:
        value = float("nan")
    if not 0 < value <= 1000:  # NaN fails this too
        raise ImproperlyConfigured(
            "SERVER_SWITCH_INTERVAL_MS must be a number of milliseconds above 0 and at most "
            f"1000, not {raw!r}."
        )
    return value


# CPython's thread switch interval in the processes config/wsgi.py serves from. With the
# default 5 ms, a request thread can wait up to 5 ms for the GIL behind its sibling thread;
# 0.2 ms bounds that wait (docs/decisions/0014-gil-switch-interval.md).
SERVER_SWITCH_INTERVAL_MS = _switch_interval_ms()

# --- Rate limits ----------------------------------------------------------------------------
# REQUEST_RATE_LIMITS_ENABLED switches the request counters only: the per-address limit on
# every /api/ route (RATE_LIMIT_DEFAULT) and the per-route limits (AUTH_LOGIN_RATE,
# AUTH_REGISTER_RATE, AUTH_OTP_IP_RATE, uploads, exports…), which meter how fast a client
# may call. Account protections are not request metering and stay on whatever it says:
# failed-login lock-outs and the growing per-account delay, one-time code tries, and the
# per-number code caps (one a minute, AUTH_OTP_MAX_PER_NUMBER_PER_HOUR an hour), which also
# bound what an attacker can spend on SMS (docs/decisions/0017-account-security.md).
# RATE_LIMIT_ENABLED is its old name, still read; false under either name turns them off.
REQUEST_RATE_LIMITS_ENABLED = env.bool(
    "REQUEST_RATE_LIMITS_ENABLED", default=env.bool("RATE_LIMIT_ENABLED", default=True)
)
RATE_LIMIT_ENABLED = REQUEST_RATE_LIMITS_ENABLED
RATE_LIMIT_DEFAULT = env.str("RATE_LIMIT_DEFAULT", default="60/minute")
RATE_LIMIT_STORAGE_URL = env.str("RATE_LIMIT_STORAGE_URL", default=REDIS_URL)
# A gateway bursts (a settlement run, a retry wave) from a few addresses, and a refused
# delivery is only sent again later: the webhook intake is not metered per address
# (docs/decisions/0039-lean-webhook-intake.md).
RATE_LIMIT_EXEMPT_PATHS = ["/api/docs", "/api/openapi.json", WEBHOOK_PREFIX]

# The edge (tessera/core/edge.py): public, unauthenticated GET replies ready in a Redis cache
# are answered before Django's request cycle. Off without Redis (the embedded default answers
# in Django). Only public documents: a route that needs credentials goes through Django and
# Ninja's authentication, the one place they are checked (docs/decisions/0032). Every route
# here needs a parity case in tests/test_edge_parity.py.
EDGE_ENABLED = env.bool("EDGE_ENABLED", default=bool(REDIS_URL))
EDGE_ROUTES = {
    "/api/website-data/": "tessera.content.edge.website_data",
}
TRUSTED_PROXY_HOPS = env.int("TRUSTED_PROXY_HOPS", default=0)

# --- Security headers and cross-origin ------------------------------------------------------
CORS_ALLOWED_ORIGINS = env.list("CORS_ALLOWED_ORIGINS", default=[])
# Browsers only: a gateway's delivery is server to server (docs/decisions/0039).
CORS_URLS_REGEX = r"^/api/.*$"
CORS_EXPOSE_HEADERS = ["X-Request-ID", "Retry-After", "Idempotent-Replayed"]
CORS_ALLOW_HEADERS = [
    "accept",
    "accept-language",
    "authorization",
    "content-type",
    "idempotency-key",
    "x-request-id",
]
CSRF_TRUSTED_ORIGINS = env.list("CSRF_TRUSTED_ORIGINS", default=[])
SECURE_CONTENT_TYPE_NOSNIFF = True
SECURE_REFERRER_POLICY = "strict-origin-when-cross-origin"
SECURE_CROSS_ORIGIN_OPENER_POLICY = "same-origin"
X_FRAME_OPTIONS = "DENY"
CONTENT_SECURITY_POLICY = (
    "default-src 'self'; img-src 'self' data:; style-src 'self' 'unsafe-inline'; "
    "script-src 'self'; object-src 'none'; frame-ancestors 'none'; base-uri 'self'"
)
CSP_PATH_PREFIXES = ["/admin/", "/api/docs"]

# --- Email and SMS --------------------------------------------------------------------------
SENDGRID_API_KEY = env.str("SENDGRID_API_KEY", default="")
DEFAULT_FROM_EMAIL = env.str("DEFAULT_FROM_EMAIL", default="Tessera <no-reply@tessera.local>")
if SENDGRID_API_KEY:
    EMAIL_BACKEND = "anymail.backends.sendgrid.EmailBackend"
    ANYMAIL = {
        "SENDGRID_API_KEY": SENDGRID_API_KEY,
        "SENDGRID_API_URL": env.str("SENDGRID_API_URL", default="https://api.sendgrid.com/v3/"),
    }
else:
    EMAIL_BACKEND = env.str(
        "EMAIL_BACKEND", default="django.core.mail.backends.console.EmailBackend"
    )
EMAIL_FILE_PATH = env.str("EMAIL_FILE_PATH", default=str(VAR_DIR / "outbox" / "email"))

TWILIO_ACCOUNT_SID = env.str("TWILIO_ACCOUNT_SID", default="")
TWILIO_AUTH_TOKEN = env.str("TWILIO_AUTH_TOKEN", default="")
TWILIO_FROM_NUMBER = env.str("TWILIO_FROM_NUMBER", default="")
TWILIO_API_BASE = env.str("TWILIO_API_BASE", default="https://api.twilio.com")
SMS_BACKEND = env.str(
    "SMS_BACKEND", default="twilio" if TWILIO_ACCOUNT_SID and TWILIO_AUTH_TOKEN else "console"
)
SMS_FILE_PATH = env.str("SMS_FILE_PATH", default=str(VAR_DIR / "outbox" / "sms"))
# Production refuses to start with email or SMS on a back end that sends nothing (console,
# file, memory), where one-time codes would land in the logs, unless this says so.
ALLOW_CONSOLE_DELIVERY = env.bool("ALLOW_CONSOLE_DELIVERY", default=False)

# --- Observability --------------------------------------------------------------------------
LOG_LEVEL = env.str("LOG_LEVEL", default="INFO")
LOG_FORMAT = env.str("LOG_FORMAT", default="json")
METRICS_ENABLED = env.bool("METRICS_ENABLED", default=True)
METRICS_TOKEN = env.str("METRICS_TOKEN", default="")
METRICS_ALLOWED_IPS = env.list("METRICS_ALLOWED_IPS", default=["127.0.0.1", "::1"])
# Queues whose depth /metrics reads from the broker, and how long a scrape-time reading is
# reused; a worker's own metrics port (0: none), see tessera/core/metrics.py.
# By default the one queue tasks go to (CELERY_TASK_DEFAULT_QUEUE, integrations/celery.py).
METRICS_QUEUES = env.list(
    "METRICS_QUEUES", default=[env.str("CELERY_TASK_DEFAULT_QUEUE", default="celery")]
)
METRICS_SOURCE_CACHE_SECONDS = env.float("METRICS_SOURCE_CACHE_SECONDS", default=5.0)
CELERY_METRICS_PORT = env.int("CELERY_METRICS_PORT", default=0)
CELERY_METRICS_ADDR = env.str("CELERY_METRICS_ADDR", default="0.0.0.0")  # noqa: S104
SENTRY_DSN = env.str("SENTRY_DSN", default="")
SENTRY_ENVIRONMENT = env.str("SENTRY_ENVIRONMENT", default="development")
SENTRY_TRACES_SAMPLE_RATE = env.float("SENTRY_TRACES_SAMPLE_RATE", default=0.0)
POSTHOG_API_KEY = env.str("POSTHOG_API_KEY", default="")
POSTHOG_HOST = env.str("POSTHOG_HOST", default="https://us.i.posthog.com")
POSTHOG_TIMEOUT_SECONDS = env.float("POSTHOG_TIMEOUT_SECONDS", default=5.0)

from config.settings.integrations.celery import *  # noqa: E402
from config.settings.integrations.logging import *  # noqa: E402
from config.settings.integrations.sentry import *  # noqa: E402

# --- Tokens ---------------------------------------------------------------------------------
# JWT_SIGNING_KEYS: "kid1=secret1,kid2=secret2"; JWT_ACTIVE_KEY_ID signs new tokens, every
# listed key still verifies, so a key rotates without logging anyone out.
JWT_SIGNING_KEYS = env.dict("JWT_SIGNING_KEYS", default={"k1": SECRET_KEY})
JWT_ACTIVE_KEY_ID = env.str("JWT_ACTIVE_KEY_ID", default=next(iter(JWT_SIGNING_KEYS)))
JWT_ISSUER = env.str("JWT_ISSUER", default="tessera")
JWT_ACCESS_TOKEN_LIFETIME_SECONDS = env.int("JWT_ACCESS_TOKEN_LIFETIME_SECONDS", default=15 * 60)
API_TOKEN_VERIFIER = "tessera.accounts.tokens.access_token_verify"  # noqa: S105
from config.settings.integrations.auth import *  # noqa: E402
from config.settings.integrations.capsules import *  # noqa: E402
from config.settings.integrations.content import *  # noqa: E402
from config.settings.integrations.events import *  # noqa: E402
from config.settings.integrations.notifications import *  # noqa: E402
from config.settings.integrations.payments import *  # noqa: E402
from config.settings.integrations.replicas import *  # noqa: E402
from config.settings.integrations.storage import *  # noqa: E402

# Last: drop the periodic jobs and edge routes of products that are off.
CELERY_BEAT_SCHEDULE, EDGE_ROUTES = product_filtered(CELERY_BEAT_SCHEDULE, EDGE_ROUTES)
