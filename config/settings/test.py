"""Fast, isolated test settings. The lanes of `make test` (docs/decisions/0015-test-lanes-
with-services.md) switch servers on with:

- `TEST_DATABASE_URL`: PostgreSQL instead of a SQLite file (Django creates `test_<name>`);
- `TEST_CACHE=redis`: the default cache on Redis at `TEST_REDIS_URL` (index 12 by default,
  the tests' own), as production runs it: the edge, the near cache, page caches and rate-limit
  counters all on Redis. Each test process keeps its keys under a prefix of its own and
  clears only those (tests/cache.py), so parallel workers and runs never see each other's.
"""

import os

from django.core.exceptions import ImproperlyConfigured

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
TEST_REDIS_URL = env.str("TEST_REDIS_URL", default="redis://127.0.0.1:6379/12")
TEST_CACHE = env.str("TEST_CACHE", default="locmem")
if TEST_CACHE == "redis":
    CACHES = {
        "default": {
            "BACKEND": "tests.cache.IsolatedRedisCache",
            "LOCATION": TEST_REDIS_URL,
            "KEY_PREFIX": f"tessera-test-{os.getpid()}",
            "OPTIONS": REDIS_CACHE_OPTIONS,
        }
    }
    EDGE_ENABLED = True
elif TEST_CACHE == "locmem":
    CACHES = {
        "default": {
            "BACKEND": "django.core.cache.backends.locmem.LocMemCache",
            "LOCATION": "tests",
        }
    }
else:
    raise ImproperlyConfigured(f"TEST_CACHE must be locmem or redis, not {TEST_CACHE!r}.")
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
