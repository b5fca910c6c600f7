"""Organisers and their Ed25519 ticket-signing keys."""

from __future__ import annotations

from typing import Any

from django.db import IntegrityError, transaction

from tessera.accounts.models import User
from tessera.audit.services import audit_record
from tessera.events import keys
from tessera.events.models import Organiser, OrganiserKey
from tessera.events.services.common import now


def organiser_for(user: User) -> Organiser:
    organiser = Organiser.objects.filter(user=user).first()
    if organiser is not None:
        return organiser
    try:
        with transaction.atomic():
            return Organiser.objects.create(user=user)
    except IntegrityError:
        return Organiser.objects.get(user=user)


def organiser_active_key(user: User) -> OrganiserKey:
    """The key that signs the organiser's new tickets, made on first use."""
    organiser = organiser_for(user)
    key = OrganiserKey.objects.filter(organiser=organiser, active=True).first()
    if key is not None:
        return key
    key_id, public_b64, encrypted = keys.generate()
    try:
        with transaction.atomic():
            return OrganiserKey.objects.create(
                organiser=organiser,
                key_id=key_id,
                public_key=public_b64,
                private_key_encrypted=encrypted,
            )
    except IntegrityError:  # another request made it first
        return OrganiserKey.objects.get(organiser=organiser, active=True)


def organiser_key_rotate(*, user: User, actor: Any = None) -> OrganiserKey:
    """A new active key; the old one is retired but still verifies the tickets it signed
    and keeps signing them when they are shown); new tickets use the new key."""
    with transaction.atomic():
        organiser = Organiser.objects.select_for_update().get(pk=organiser_for(user).pk)
        OrganiserKey.objects.filter(organiser=organiser, active=True).update(
            active=False, retired_at=now()
        )
        key_id, public_b64, encrypted = keys.generate()
        key = OrganiserKey.objects.create(
            organiser=organiser,
            key_id=key_id,
            public_key=public_b64,
            private_key_encrypted=encrypted,
        )
        audit_record(
            action="events.organiser_key.rotated",
            actor=actor or user,
            target=key,
            changes={"keyId": key_id},
        )
        return key


def keys_reencrypt() -> int:
    """Encrypt every private key under the first secret of EVENTS_KEY_ENCRYPTION_KEYS."""
    changed = 0
    with transaction.atomic():
        for key in OrganiserKey.objects.select_for_update():
            rotated = keys.reencrypt(key.private_key_encrypted)
            if rotated != key.private_key_encrypted:
                key.private_key_encrypted = rotated
                key.save(update_fields=["private_key_encrypted", "updated_at"])
                changed += 1
    return changed
