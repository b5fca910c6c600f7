"""Celery: RabbitMQ or Redis by URL in services mode, a SQLite broker in the embedded default."""

from celery.schedules import crontab

from config.settings.env import VAR_DIR, env

CELERY_BROKER_URL = env.str(
    "CELERY_BROKER_URL", default=f"sqla+sqlite:///{VAR_DIR / 'celery-broker.sqlite3'}"
)
# Task state for polling lives in tessera.tasks (TaskRecord); a result back end is optional.
CELERY_RESULT_BACKEND = env.str("CELERY_RESULT_BACKEND", default="") or None
# The queue tasks go to and workers read: two systems on one broker vhost keep apart by name.
CELERY_TASK_DEFAULT_QUEUE = env.str("CELERY_TASK_DEFAULT_QUEUE", default="celery")
CELERY_TASK_ALWAYS_EAGER = env.bool("CELERY_TASK_ALWAYS_EAGER", default=False)
CELERY_TASK_EAGER_PROPAGATES = True
CELERY_TASK_ACKS_LATE = True
CELERY_TASK_REJECT_ON_WORKER_LOST = True
CELERY_WORKER_PREFETCH_MULTIPLIER = env.int("CELERY_WORKER_PREFETCH_MULTIPLIER", default=1)
CELERY_TASK_SERIALIZER = "json"
CELERY_ACCEPT_CONTENT = ["json"]
CELERY_TASK_TIME_LIMIT = env.int("CELERY_TASK_TIME_LIMIT", default=15 * 60)
CELERY_TASK_SOFT_TIME_LIMIT = env.int("CELERY_TASK_SOFT_TIME_LIMIT", default=14 * 60)
CELERY_TASK_SEND_SENT_EVENT = True
CELERY_WORKER_SEND_TASK_EVENTS = True
CELERY_BROKER_CONNECTION_RETRY_ON_STARTUP = True
# Redis redelivers unacknowledged tasks after the visibility timeout; keep it above the
# longest ETA any task is scheduled with (../shared/PERFORMANCE.md).
if CELERY_BROKER_URL.startswith(("redis://", "rediss://")):
    CELERY_BROKER_TRANSPORT_OPTIONS = {"visibility_timeout": 6 * 3600}
# django-celery-beat's database scheduler, without the jobs of products that are off.
CELERY_BEAT_SCHEDULER = "tessera.core.beat:TesseraScheduler"
CELERY_TIMEZONE = "UTC"

# Periodic jobs. django-celery-beat copies these into its tables on start, where the admin
# can pause or reschedule them.
CELERY_BEAT_SCHEDULE = {
    "audit-summarise-daily": {
        "task": "audit.summarise_daily",
        "schedule": crontab(hour=0, minute=10),
        "options": {"expires": 3600},
    },
    "core-purge-idempotency-records": {
        "task": "core.purge_idempotency_records",
        "schedule": 3600,
        "options": {"expires": 600},
    },
    "files-cleanup-daily": {
        "task": "files.cleanup",
        "schedule": crontab(hour=3, minute=30),
        "options": {"expires": 3600},
    },
    # Queued email and SMS deliveries whose sending task was lost or whose retry time came.
    "notifications-send-due": {
        "task": "notifications.send_due",
        "schedule": 60,
        "options": {"expires": 55},
    },
    "capsules-unlock-sweep": {
        "task": "capsules.unlock_sweep",
        "schedule": 60,
        "options": {"expires": 55},
    },
    # Events: completions, expiries, lapsed payment holds, reminders (tessera/events).
    "events-sweep": {
        "task": "events.sweep",
        "schedule": 60,
        "options": {"expires": 55},
    },
    # Webhook deliveries, payouts and sandbox webhooks whose task was lost (broker down at
    # commit) are sent again.
    "payments-sweep": {
        "task": "payments.sweep",
        "schedule": 60,
        "options": {"expires": 55},
    },
    # Orders and payouts open for more than an hour are asked about at the gateway.
    "payments-reconcile": {
        "task": "payments.reconcile",
        "schedule": 15 * 60,
        "options": {"expires": 14 * 60},
    },
    # Wallet notices whose drain task was lost (the settlement schedules one after commit).
    "wallet-notify-due": {
        "task": "wallet.notify_due",
        "schedule": 60,
        "options": {"expires": 55},
    },
    "wallet-reconcile": {
        "task": "wallet.reconcile",
        "schedule": 15 * 60,
        "options": {"expires": 14 * 60},
    },
    # Each wallet's balance equals the sum of its entries; the ledger sums to zero.
    "wallet-ledger-check": {
        "task": "wallet.ledger_check",
        "schedule": crontab(hour=2, minute=30),
        "options": {"expires": 3600},
    },
}

# Workers log through Django's LOGGING (structlog JSON with the task id bound), not Celery's
# own root handler.
CELERY_WORKER_HIJACK_ROOT_LOGGER = False
