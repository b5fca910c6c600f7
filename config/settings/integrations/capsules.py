"""Time capsules (tessera.capsules)."""

from config.settings.env import env

# Box pages kept ready in the cache (tessera/capsules/boxcache.py); off: every read queries.
CAPSULE_PAGE_CACHE = env.bool("CAPSULE_PAGE_CACHE", default=True)
