"""Checks production settings run at import: secrets that can be guessed and delivery back ends
that would write sign-in codes to the logs stop the process with ImproperlyConfigured.

Messages name the variable and the problem, never the secret's value.
See docs/decisions/0017-account-security.md.
"""

from __future__ import annotations

import math
from collections import Counter
from collections.abc import Mapping

from django.core.exceptions import ImproperlyConfigured

DJANGO_INSECURE_PREFIX = "django-insecure-"
DEVELOPMENT_SECRET = "insecure-development-key-set-DJANGO_SECRET_KEY-in-production"  # noqa: S105
GENERATE_HINT = "Generate one with: python -c 'import secrets; print(secrets.token_urlsafe(50))'"

# A secret must show at least this many different characters and this much entropy by a
# Shannon estimate over its own characters (bits per character x length). A random key of
# 50 characters from secrets.token_urlsafe measures ~320 bits; 32 random hex digits 94-125
# (88 at the lowest in 10^6 draws), so the floor leaves room for short random keys.
# The estimate cannot prove randomness (a long sentence passes), it catches the keys people
# actually type: one letter repeated, "changeme", a short pattern repeated.
MIN_DISTINCT_CHARACTERS = 8
MIN_ESTIMATED_BITS = 80.0
# Of a key's three-character windows, at least this share must differ from one another:
# "abcdefghabcdefgh…" has many distinct letters and a fair estimate but repeats itself.
MIN_DISTINCT_TRIGRAM_SHARE = 0.6


def shannon_bits(value: str) -> float:
    """Length x the Shannon entropy (bits per character) of the value's own character counts."""
    if not value:
        return 0.0
    counts = Counter(value)
    length = len(value)
    per_character = -sum(n / length * math.log2(n / length) for n in counts.values())
    return per_character * length


def _distinct_trigram_share(value: str) -> float:
    windows = [value[index : index + 3] for index in range(len(value) - 2)]
    return len(set(windows)) / len(windows) if windows else 0.0


def secret_weakness(value: str, *, min_length: int) -> str | None:
    """Why `value` is not fit to sign anything in production, or None when it is."""
    if not value:
        return "is empty"
    if value == DEVELOPMENT_SECRET:
        return "is the development default"
    if value.startswith(DJANGO_INSECURE_PREFIX):
        return f"starts with {DJANGO_INSECURE_PREFIX!r} (a key made for development)"
    length = len(value.encode())
    if length < min_length:
        return f"is {length} bytes long; at least {min_length} are needed"
    distinct = len(set(value))
    if distinct < MIN_DISTINCT_CHARACTERS:
        return (
            f"has low entropy: only {distinct} different characters "
            f"(at least {MIN_DISTINCT_CHARACTERS})"
        )
    bits = shannon_bits(value)
    if bits < MIN_ESTIMATED_BITS:
        return (
            f"has low entropy: about {bits:.0f} bits by a Shannon estimate "
            f"(at least {MIN_ESTIMATED_BITS:.0f})"
        )
    if _distinct_trigram_share(value) < MIN_DISTINCT_TRIGRAM_SHARE:
        return "has low entropy: it repeats a short pattern"
    return None


def require_strong_secret(name: str, value: str, *, min_length: int) -> None:
    problem = secret_weakness(value, min_length=min_length)
    if problem is not None:
        raise ImproperlyConfigured(
            f"{name} {problem}. Production needs a random value of at least {min_length} "
            f"characters. {GENERATE_HINT}"
        )


def require_strong_jwt_keys(keys: Mapping[str, str], active_key_id: str) -> None:
    """Every verifying key of JWT_SIGNING_KEYS is a strong secret of 32 bytes or more (HS256
    with a shorter key is below the hash's own strength, RFC 7518 section 3.2)."""
    if not keys:
        raise ImproperlyConfigured("JWT_SIGNING_KEYS must list at least one key: kid=secret.")
    for key_id, secret in keys.items():
        require_strong_secret(f"JWT_SIGNING_KEYS key {key_id!r}", str(secret), min_length=32)
    if active_key_id not in keys:
        raise ImproperlyConfigured(
            f"JWT_ACTIVE_KEY_ID {active_key_id!r} is not one of the JWT_SIGNING_KEYS key ids "
            f"({', '.join(sorted(keys))})."
        )


# Back ends that deliver nothing: what they are given (one-time codes, reset links) ends up in
# the process's output, a file or memory.
CONSOLE_EMAIL_BACKENDS = frozenset(
    {
        "django.core.mail.backends.console.EmailBackend",
        "django.core.mail.backends.filebased.EmailBackend",
        "django.core.mail.backends.locmem.EmailBackend",
        "django.core.mail.backends.dummy.EmailBackend",
    }
)
CONSOLE_SMS_BACKENDS = frozenset({"console", "file", "memory"})


def require_real_delivery(*, email_backend: str, sms_backend: str, allowed: bool) -> None:
    """Refuse console, file and memory email or SMS back ends unless ALLOW_CONSOLE_DELIVERY."""
    if allowed:
        return
    if email_backend in CONSOLE_EMAIL_BACKENDS:
        raise ImproperlyConfigured(
            f"EMAIL_BACKEND is {email_backend}, which sends nothing: verification codes and "
            "password reset links would land in the logs. Set SENDGRID_API_KEY (or "
            "EMAIL_BACKEND to a back end that sends mail), or ALLOW_CONSOLE_DELIVERY=true "
            "to run this way on purpose."
        )
    if sms_backend in CONSOLE_SMS_BACKENDS:
        raise ImproperlyConfigured(
            f"SMS_BACKEND is {sms_backend!r}, which sends nothing: sign-in codes would land in "
            "the logs. Set TWILIO_ACCOUNT_SID and TWILIO_AUTH_TOKEN (or SMS_BACKEND=twilio), "
            "or ALLOW_CONSOLE_DELIVERY=true to run this way on purpose."
        )
