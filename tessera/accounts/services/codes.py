"""One-time codes and tokens: generated here, stored only as hashes, used once."""

from __future__ import annotations

import hashlib
import hmac
import secrets
from dataclasses import dataclass
from datetime import timedelta

from django.conf import settings
from django.db import transaction
from django.utils import timezone

from tessera.accounts.models import User, VerificationCode

Purpose = VerificationCode.Purpose
State = VerificationCode.State


def code_generate(length: int) -> str:
    return f"{secrets.randbelow(10**length):0{length}d}"


def code_hash(*, purpose: str, target: str, code: str) -> str:
    """Keyed hash of a short code: without the secret key, a stolen table does not reveal it."""
    key = hashlib.sha256(("tessera.accounts.codes:" + settings.SECRET_KEY).encode()).digest()
    message = f"{purpose}\n{target}\n{code.strip()}".encode()
    return hmac.new(key, message, hashlib.sha256).hexdigest()


def token_hash(token: str) -> str:
    return hashlib.sha256(token.encode()).hexdigest()


@dataclass(frozen=True)
class IssuedCode:
    record: VerificationCode
    code: str


def code_issue(
    *,
    purpose: str,
    target: str,
    user: User | None,
    ttl_seconds: int,
    code: str,
    hashed: str,
    delivered: bool = True,
    ip_address: str | None = None,
    per_user: bool = False,
) -> IssuedCode:
    """Store a new code for `(purpose, target)`; earlier active ones stop working.

    With `per_user` (an address change), the earlier codes that stop working are `user`'s
    for `purpose`, whatever their target: two accounts asking for one address do not cancel
    each other's codes, and an account has one pending change at a time.
    """
    now = timezone.now()
    with transaction.atomic():
        earlier = VerificationCode.objects.filter(purpose=purpose, state=State.ACTIVE)
        earlier = earlier.filter(user=user) if per_user else earlier.filter(target=target)
        earlier.update(state=State.SUPERSEDED, updated_at=now)
        record = VerificationCode.objects.create(
            purpose=purpose,
            target=target,
            user=user,
            code_hash=hashed,
            expires_at=now + timedelta(seconds=ttl_seconds),
            delivered=delivered,
            ip_address=ip_address,
        )
    return IssuedCode(record=record, code=code)


@dataclass(frozen=True)
class CheckResult:
    """What happened to one try: accepted (the code is now used), wrong, or burned."""

    accepted: bool
    record: VerificationCode | None
    burned: bool = False


def code_check(
    *, purpose: str, target: str, code: str, max_attempts: int, user: User | None = None
) -> CheckResult:
    """Try `code` against the active code of `(purpose, target)`, locking its row.

    With `user`, only a code issued to that user counts (an address change): another
    account's tries neither pass nor burn it.

    Must run inside the caller's transaction; a wrong try is counted even though the caller
    then raises, because the caller raises only after its transaction commits.
    """
    now = timezone.now()
    active = VerificationCode.objects.select_for_update().filter(
        purpose=purpose, target=target, state=State.ACTIVE, expires_at__gt=now
    )
    if user is not None:
        active = active.filter(user=user)
    record = active.order_by("-created_at").first()
    if record is None:
        return CheckResult(accepted=False, record=None)
    expected = code_hash(purpose=purpose, target=target, code=code)
    if hmac.compare_digest(record.code_hash, expected) and record.delivered:
        record.state = State.USED
        record.used_at = now
        record.save(update_fields=["state", "used_at", "updated_at"])
        return CheckResult(accepted=True, record=record)
    record.attempts += 1
    burned = record.attempts >= max_attempts
    if burned:
        record.state = State.BURNED
    record.save(update_fields=["attempts", "state", "updated_at"])
    return CheckResult(accepted=False, record=record, burned=burned)
