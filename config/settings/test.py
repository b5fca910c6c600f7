"""Fast, isolated test settings. TEST_DATABASE_URL / TEST_REDIS_URL switch the lanes on."""

from config.settings.base import *

DEBUG = False
SECRET_KEY = "test-secret-key-not-for-production-0123456789abcdef"  # noqa: S105
JWT_SIGNING_KEYS = {"k1": SECRET_KEY}
JWT_ACTIVE_KEY_ID = "k1"
PASSWORD_HASHERS = ["django.contrib.auth.hashers.MD5PasswordHasher"]
EMAIL_BACKEND = "django.core.mail.backends.locmem.EmailBackend"
SMS_BACKEND = "memory"
CELERY_TASK_ALWAYS_EAGER = True
CELERY_BROKER_URL = "memory://"
_TEST_DATABASE_URL = env.str("TEST_DATABASE_URL", default="")
if _TEST_DATABASE_URL:
    DATABASES = {"default": env.db_url_config(_TEST_DATABASE_URL)}
    DATABASES["default"]["OPTIONS"] = {"prepare_threshold": POSTGRES_PREPARE_EXPLICIT_ONLY}
else:
    # A file, not ":memory:", so the embedded default's options apply: WAL, IMMEDIATE
    # transactions and a busy timeout, which worker threads in the broker tests rely on.
    DATABASES = {
        "default": {
            "ENGINE": "django.db.backends.sqlite3",
            "NAME": str(VAR_DIR / "test.sqlite3"),
            "TEST": {"NAME": str(VAR_DIR / "test-db.sqlite3")},
            "OPTIONS": {
                "transaction_mode": "IMMEDIATE",
                "timeout": 20,
                "init_command": "PRAGMA journal_mode=WAL; PRAGMA synchronous=OFF;",
            },
        }
    }
CACHES = {
    "default": {"BACKEND": "django.core.cache.backends.locmem.LocMemCache", "LOCATION": "tests"}
}
RATE_LIMIT_STORAGE_URL = ""
STORAGES = {
    "default": {"BACKEND": "django.core.files.storage.InMemoryStorage"},
    "staticfiles": {"BACKEND": "django.contrib.staticfiles.storage.StaticFilesStorage"},
}
LOGGING["root"]["level"] = "WARNING"  # type: ignore[index]
LOGGING["loggers"]["tessera.access"]["level"] = "WARNING"  # type: ignore[index]
# Uploads made by the tests (schemathesis posts real images) stay out of the dev media folder.
MEDIA_ROOT = VAR_DIR / "test-media"
# Every scrape reads the scrape-time sources afresh (production keeps them a few seconds).
METRICS_SOURCE_CACHE_SECONDS = 0.0
