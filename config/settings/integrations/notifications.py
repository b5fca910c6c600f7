"""Notifications (tessera.notifications): how queued email and SMS deliveries are sent."""

from config.settings.env import env

# Messages per channel across all workers (a `limits` rate such as "100/second"; empty: no
# limit of ours, the provider's own 429 still pauses the channel). SendGrid's mail send
# takes thousands a second; a Twilio number sends about one SMS a second, a short code 100.
NOTIFICATIONS_EMAIL_SEND_RATE = env.str("NOTIFICATIONS_EMAIL_SEND_RATE", default="100/second")
NOTIFICATIONS_SMS_SEND_RATE = env.str("NOTIFICATIONS_SMS_SEND_RATE", default="10/second")
# Deliveries a worker claims at a time, and how long it may hold them before another
# worker takes them again (a worker that died mid-batch).
NOTIFICATIONS_SEND_BATCH_SIZE = env.int("NOTIFICATIONS_SEND_BATCH_SIZE", default=100)
NOTIFICATIONS_SEND_LEASE_SECONDS = env.int("NOTIFICATIONS_SEND_LEASE_SECONDS", default=300)
# How long one sending task runs before it hands over to a fresh one.
NOTIFICATIONS_SEND_TIME_BUDGET_SECONDS = env.int(
    "NOTIFICATIONS_SEND_TIME_BUDGET_SECONDS", default=50
)
# Tries of one message (transient failures), and the backoff between them: base * 2^n,
# capped, with jitter.
NOTIFICATIONS_SEND_MAX_ATTEMPTS = env.int("NOTIFICATIONS_SEND_MAX_ATTEMPTS", default=8)
NOTIFICATIONS_SEND_RETRY_BASE_SECONDS = env.int("NOTIFICATIONS_SEND_RETRY_BASE_SECONDS", default=30)
NOTIFICATIONS_SEND_RETRY_MAX_SECONDS = env.int("NOTIFICATIONS_SEND_RETRY_MAX_SECONDS", default=3600)
