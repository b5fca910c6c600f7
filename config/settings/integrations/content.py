"""Website content (tessera.content): translated fields, the cached document, image limits."""

from config.settings.env import env

MODELTRANSLATION_DEFAULT_LANGUAGE = "en"
MODELTRANSLATION_LANGUAGES = ("en", "ar")
MODELTRANSLATION_FALLBACK_LANGUAGES = ("en",)
# Off: every read builds the document from the database (diagnosis, benchmark baseline).
CONTENT_CACHE_ENABLED = env.bool("CONTENT_CACHE_ENABLED", default=True)
CONTENT_CACHE_TTL_SECONDS = env.int("CONTENT_CACHE_TTL_SECONDS", default=3600)
CONTENT_SECTION_CACHE_TTL_SECONDS = env.int("CONTENT_SECTION_CACHE_TTL_SECONDS", default=1800)
CONTENT_REBUILD_WAIT_SECONDS = env.float("CONTENT_REBUILD_WAIT_SECONDS", default=5.0)
# While the cache server is unreachable, each process serves the document it built for this
# long before building it again from the database (0: build on every read).
CONTENT_OUTAGE_COPY_SECONDS = env.float("CONTENT_OUTAGE_COPY_SECONDS", default=5.0)
CONTENT_UPDATE_RATE = env.str("CONTENT_UPDATE_RATE", default="10/minute")
CONTENT_IMAGE_MAX_BYTES = env.int("CONTENT_IMAGE_MAX_BYTES", default=5 * 1024 * 1024)
CONTENT_IMAGE_MAX_PIXELS = env.int("CONTENT_IMAGE_MAX_PIXELS", default=40_000_000)
# The cached document also kept in each process, invalidated by Redis itself
# (tessera/core/nearcache.py, docs/decisions/0013); only with a Redis cache.
CONTENT_NEAR_CACHE = env.bool("CONTENT_NEAR_CACHE", default=True)
# A shared cache in front (deploy/nginx) may keep the document this long (s-maxage) and
# serve it stale while revalidating for the second value; 0 keeps it out of shared caches.
CONTENT_SHARED_CACHE_SECONDS = env.int("CONTENT_SHARED_CACHE_SECONDS", default=0)
CONTENT_STALE_WHILE_REVALIDATE_SECONDS = env.int(
    "CONTENT_STALE_WHILE_REVALIDATE_SECONDS", default=30
)
