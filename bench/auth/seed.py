"""Seed the benchmark database (run by run.py under the stack's own settings): one user with
a password, three interests, a signed-in session, and a pool of single-use refresh tokens.

    python bench/auth/seed.py OUT.json REFRESH_TOKENS.txt COUNT
"""

from __future__ import annotations

import json
import sys
from datetime import timedelta
from pathlib import Path

import django

sys.path.insert(0, str(Path(__file__).resolve().parents[2]))
django.setup()

from django.conf import settings  # noqa: E402
from django.utils import timezone  # noqa: E402

from tessera.accounts import services  # noqa: E402
from tessera.accounts.models import AuthSession, EventInterest, RefreshToken, User  # noqa: E402
from tessera.accounts.tokens import refresh_token_new  # noqa: E402

EMAIL = "bench@example.com"
PASSWORD = "bench-password-correct-horse"  # noqa: S105 - a benchmark account


def main(out: Path, tokens_path: Path, count: int) -> None:
    user = User.objects.filter(email=EMAIL).first() or User.objects.create_user(
        email=EMAIL, password=PASSWORD, name="Bench User"
    )
    user.interests.set(EventInterest.objects.order_by("position")[:3])
    pair = services.session_start(user=user, method="password")
    now = timezone.now()
    expires = now + timedelta(days=7)
    tokens: list[str] = []
    batch = 5000
    for start in range(0, count, batch):
        size = min(batch, count - start)
        sessions = AuthSession.objects.bulk_create(
            [
                AuthSession(user=user, method="password", last_used_at=now, expires_at=expires)
                for _ in range(size)
            ]
        )
        rows = []
        for session in sessions:
            token, token_hash = refresh_token_new()
            tokens.append(token)
            rows.append(RefreshToken(session=session, token_hash=token_hash, expires_at=expires))
        RefreshToken.objects.bulk_create(rows)
    tokens_path.write_text("\n".join(tokens) + "\n")
    out.write_text(
        json.dumps(
            {
                "user_id": str(user.pk),
                "email": EMAIL,
                "password": PASSWORD,
                "access_token": pair.access_token,
                "hasher": settings.PASSWORD_HASHERS[0],
                "argon2": {
                    "time_cost": settings.ARGON2_TIME_COST,
                    "memory_cost_kib": settings.ARGON2_MEMORY_COST_KIB,
                    "parallelism": settings.ARGON2_PARALLELISM,
                },
            }
        )
    )


if __name__ == "__main__":
    main(Path(sys.argv[1]), Path(sys.argv[2]), int(sys.argv[3]))
