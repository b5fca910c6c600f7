"""Time capsules (tessera.capsules)."""

from config.settings.env import env

# Box pages kept ready in the cache (tessera/capsules/boxcache.py); off: every read queries.
CAPSULE_PAGE_CACHE = env.bool("CAPSULE_PAGE_CACHE", default=True)
# Fan-out tasks the unlock sweep starts when it moved capsules (each claims its own
# batches of events; more share a big sweep's notifications between workers).
CAPSULE_NOTIFY_TASKS = env.int("CAPSULE_NOTIFY_TASKS", default=2)
# How long one fan-out task notifies before it hands over to a fresh one (inside
# CELERY_TASK_TIME_LIMIT, so that a big backlog never gets a task killed mid-way).
CAPSULE_NOTIFY_TIME_BUDGET_SECONDS = env.int("CAPSULE_NOTIFY_TIME_BUDGET_SECONDS", default=240)
