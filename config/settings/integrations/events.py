"""Events and attendance (tessera.events)."""

from config.settings.env import env

# Secrets that encrypt the organisers' Ed25519 ticket-signing keys at rest. The first one
# encrypts, every one decrypts (to rotate: put the new secret first, run
# `manage.py events_reencrypt_keys`, then drop the old one). Empty: derived from
# DJANGO_SECRET_KEY, so changing that key needs the old one listed here first.
EVENTS_KEY_ENCRYPTION_KEYS = env.list("EVENTS_KEY_ENCRYPTION_KEYS", default=[])
# How long an accepted place in a paid event is held for its payment.
EVENTS_PAYMENT_HOLD_MINUTES = env.int("EVENTS_PAYMENT_HOLD_MINUTES", default=60)
# An attendee who cancels at least this long before the start is refunded in full.
EVENTS_REFUND_CUTOFF_HOURS = env.int("EVENTS_REFUND_CUTOFF_HOURS", default=48)
# Attendees are reminded this long before the start (the beat job `events-sweep`).
EVENTS_REMINDER_BEFORE_MINUTES = env.int("EVENTS_REMINDER_BEFORE_MINUTES", default=24 * 60)
# Invitations lapse after this many days (or at the event's start, whichever is first).
EVENTS_INVITE_TTL_DAYS = env.int("EVENTS_INVITE_TTL_DAYS", default=14)
# A ticket's signed secret stays valid until this long after the event's end.
EVENTS_TICKET_GRACE_HOURS = env.int("EVENTS_TICKET_GRACE_HOURS", default=12)
# Widest discovery radius; join requests (and invites sent) per user.
EVENTS_MAX_RADIUS_KM = env.float("EVENTS_MAX_RADIUS_KM", default=500.0)
EVENTS_REQUEST_RATE = env.str("EVENTS_REQUEST_RATE", default="30/hour")
# How long a discovery page (`GET /api/events`) is kept in the cache, in seconds; any event
# write that changes what discovery shows retires every kept page at once, but seats taken
# (`placesLeft`) may lag by this much (docs/decisions/0038). 0 turns the cache off.
EVENTS_DISCOVERY_CACHE_SECONDS = env.int("EVENTS_DISCOVERY_CACHE_SECONDS", default=10)
# Where push notifications go: a dotted path to a `tessera.events.push.PushBackend`.
EVENTS_PUSH_BACKEND = env.str("EVENTS_PUSH_BACKEND", default="tessera.events.push.LogPushBackend")
