"""Sign-in flows: one-time codes, lock-out, refresh tokens, password hashing, GitHub and Google.

Imported at the end of `base.py`; every value comes from the environment. See
docs/decisions/0008-authentication.md.
"""

from config.settings.env import env

# --- Password hashing -----------------------------------------------------------------------
# Argon2id at OWASP's recommended minimum (19 MiB, 2 passes, 1 lane), measured and argued
# in docs/decisions/0008. A stored hash with other
# parameters is upgraded on the next successful login.
ARGON2_TIME_COST = env.int("ARGON2_TIME_COST", default=2)
ARGON2_MEMORY_COST_KIB = env.int("ARGON2_MEMORY_COST_KIB", default=19 * 1024)
ARGON2_PARALLELISM = env.int("ARGON2_PARALLELISM", default=1)
PASSWORD_HASHERS = [
    "tessera.accounts.hashers.TesseraArgon2PasswordHasher",
    "django.contrib.auth.hashers.PBKDF2PasswordHasher",
]

# --- Tokens ---------------------------------------------------------------------------------
JWT_REFRESH_TOKEN_LIFETIME_SECONDS = env.int(
    "JWT_REFRESH_TOKEN_LIFETIME_SECONDS", default=7 * 24 * 3600
)
# How stale a session's "last used" may get before an authenticated request writes it.
AUTH_SESSION_TOUCH_SECONDS = env.int("AUTH_SESSION_TOUCH_SECONDS", default=300)
# How long a checked session and its user stay in the cache (0: query every request).
# Any change to the user or their sessions makes the copy unusable at once.
AUTH_SESSION_CACHE_SECONDS = env.int("AUTH_SESSION_CACHE_SECONDS", default=60)

# --- One-time codes by SMS (phone sign-up and login) ----------------------------------------
AUTH_OTP_LENGTH = env.int("AUTH_OTP_LENGTH", default=6)
AUTH_OTP_TTL_SECONDS = env.int("AUTH_OTP_TTL_SECONDS", default=600)
AUTH_OTP_MAX_ATTEMPTS = env.int("AUTH_OTP_MAX_ATTEMPTS", default=3)
AUTH_OTP_RESEND_SECONDS = env.int("AUTH_OTP_RESEND_SECONDS", default=60)
AUTH_OTP_MAX_PER_NUMBER_PER_HOUR = env.int("AUTH_OTP_MAX_PER_NUMBER_PER_HOUR", default=5)
AUTH_OTP_IP_RATE = env.str("AUTH_OTP_IP_RATE", default="20/hour")
AUTH_OTP_VERIFY_IP_RATE = env.str("AUTH_OTP_VERIFY_IP_RATE", default="30/hour")
# Region used to read numbers written without a leading "+" (none: they are refused).
AUTH_PHONE_DEFAULT_REGION = env.str("AUTH_PHONE_DEFAULT_REGION", default="") or None

# --- Email and password ---------------------------------------------------------------------
AUTH_LOGIN_RATE = env.str("AUTH_LOGIN_RATE", default="5/15minutes")
AUTH_REGISTER_RATE = env.str("AUTH_REGISTER_RATE", default="3/hour")
AUTH_PASSWORD_RESET_RATE = env.str("AUTH_PASSWORD_RESET_RATE", default="5/hour")
# Failed password logins (tessera/accounts/services/lockout.py, decision 0017): this many
# failures in AUTH_LOCKOUT_SECONDS lock the (account, address) pair, and the address for
# accounts it is not known for. The account itself is never locked: after
# AUTH_LOGIN_DELAY_AFTER_FAILURES failures from anywhere, unknown clients wait a delay that
# doubles with each further failure, from AUTH_LOGIN_DELAY_BASE_SECONDS to
# AUTH_LOGIN_DELAY_MAX_SECONDS; failures are forgotten AUTH_LOGIN_DELAY_MEMORY_SECONDS after
# the last one. Known clients (a device cookie from an earlier login, or an address the
# account signed in from in the last AUTH_KNOWN_ADDRESS_DAYS) skip the delay.
AUTH_LOCKOUT_FAILURES = env.int("AUTH_LOCKOUT_FAILURES", default=5)
AUTH_LOCKOUT_SECONDS = env.int("AUTH_LOCKOUT_SECONDS", default=15 * 60)
AUTH_LOGIN_DELAY_AFTER_FAILURES = env.int("AUTH_LOGIN_DELAY_AFTER_FAILURES", default=5)
AUTH_LOGIN_DELAY_BASE_SECONDS = env.int("AUTH_LOGIN_DELAY_BASE_SECONDS", default=1)
AUTH_LOGIN_DELAY_MAX_SECONDS = env.int("AUTH_LOGIN_DELAY_MAX_SECONDS", default=15 * 60)
AUTH_LOGIN_DELAY_MEMORY_SECONDS = env.int("AUTH_LOGIN_DELAY_MEMORY_SECONDS", default=24 * 3600)
AUTH_KNOWN_ADDRESS_DAYS = env.int("AUTH_KNOWN_ADDRESS_DAYS", default=90)
AUTH_DEVICE_COOKIE_DAYS = env.int("AUTH_DEVICE_COOKIE_DAYS", default=365)
# DELETE /me without a password or code: the session must have signed in this recently.
AUTH_REAUTHENTICATION_SECONDS = env.int("AUTH_REAUTHENTICATION_SECONDS", default=5 * 60)
AUTH_PASSWORD_RESET_TTL_SECONDS = env.int("AUTH_PASSWORD_RESET_TTL_SECONDS", default=3600)
AUTH_EMAIL_VERIFICATION_TTL_SECONDS = env.int(
    "AUTH_EMAIL_VERIFICATION_TTL_SECONDS", default=24 * 3600
)
# Where the links in emails point (the web front end). Empty: this server's own pages, at
# the base `make run` listens on or the request's (tessera/core/links.py).
AUTH_FRONTEND_URL = env.str("AUTH_FRONTEND_URL", default="").rstrip("/")

# --- GitHub and Google ----------------------------------------------------------------------
# Redirect URIs the web flow may send a browser back to (exact match).
AUTH_SOCIAL_REDIRECT_URIS = env.list("AUTH_SOCIAL_REDIRECT_URIS", default=[])
AUTH_SOCIAL_STATE_TTL_SECONDS = env.int("AUTH_SOCIAL_STATE_TTL_SECONDS", default=600)
GITHUB_CLIENT_ID = env.str("GITHUB_CLIENT_ID", default="")
GITHUB_CLIENT_SECRET = env.str("GITHUB_CLIENT_SECRET", default="")
GITHUB_OAUTH_URL = env.str("GITHUB_OAUTH_URL", default="https://github.com").rstrip("/")
GITHUB_API_URL = env.str("GITHUB_API_URL", default="https://api.github.com").rstrip("/")
GOOGLE_CLIENT_ID = env.str("GOOGLE_CLIENT_ID", default="")
GOOGLE_CLIENT_SECRET = env.str("GOOGLE_CLIENT_SECRET", default="")
# Extra client ids whose ID tokens the mobile flow accepts (the Android and iOS apps').
GOOGLE_EXTRA_CLIENT_IDS = env.list("GOOGLE_EXTRA_CLIENT_IDS", default=[])
GOOGLE_AUTHORIZE_URL = env.str(
    "GOOGLE_AUTHORIZE_URL", default="https://accounts.google.com/o/oauth2/v2/auth"
)
GOOGLE_TOKEN_URL = env.str("GOOGLE_TOKEN_URL", default="https://oauth2.googleapis.com/token")
GOOGLE_JWKS_URL = env.str("GOOGLE_JWKS_URL", default="https://www.googleapis.com/oauth2/v3/certs")
GOOGLE_ISSUERS = env.list(
    "GOOGLE_ISSUERS", default=["https://accounts.google.com", "accounts.google.com"]
)
AUTH_SOCIAL_HTTP_TIMEOUT_SECONDS = env.float("AUTH_SOCIAL_HTTP_TIMEOUT_SECONDS", default=10.0)

# Sessions and tokens ended or expired a month ago are deleted daily.
from config.settings.integrations.celery import CELERY_BEAT_SCHEDULE  # noqa: E402

CELERY_BEAT_SCHEDULE["accounts-purge-expired-sessions"] = {
    "task": "accounts.purge_expired_sessions",
    "schedule": 24 * 3600,
    "options": {"expires": 3600},
}
