"""Every write of the capsules module, one submodule per concern:

- `capsules`: write, edit, seal, open, reply;
- `drafts`: autosaved drafts and sending one;
- `recipients`: who a capsule goes to, the address book;
- `invitations`: receivers without an account (email/SMS invitation, claiming on sign-up);
- `sweep`: the unlock sweep and its notification outbox.

Callers import from `tessera.capsules.services`; the names below stay the public surface.
"""

from tessera.capsules.services.boxes import box_page_body, box_page_cache_keys
from tessera.capsules.services.capsules import (
    capsule_create,
    capsule_delete,
    capsule_open,
    capsule_reply,
    capsule_seal,
    capsule_update,
)
from tessera.capsules.services.common import (
    MAX_AHEAD_YEARS,
    MIN_AHEAD,
    UNSET,
    _now,
    unlock_latest,
    unlock_time_validate,
)
from tessera.capsules.services.drafts import draft_create, draft_delete, draft_send, draft_update
from tessera.capsules.services.invitations import capsule_invite_pending, capsules_claim_pending
from tessera.capsules.services.recipients import (
    Receiver,
    receiver_resolve,
    recipient_create,
    recipient_delete,
    recipient_update,
)
from tessera.capsules.services.sweep import (
    NOTIFY_BATCH,
    SweepResult,
    _sql_pg_ready,
    _sql_pg_unfold,
    capsule_notify_events,
    capsule_unlock_sweep,
)

__all__ = [
    "MAX_AHEAD_YEARS",
    "MIN_AHEAD",
    "NOTIFY_BATCH",
    "UNSET",
    "Receiver",
    "SweepResult",
    "_now",
    "_sql_pg_ready",
    "_sql_pg_unfold",
    "box_page_body",
    "box_page_cache_keys",
    "capsule_create",
    "capsule_delete",
    "capsule_invite_pending",
    "capsule_notify_events",
    "capsule_open",
    "capsule_reply",
    "capsule_seal",
    "capsule_unlock_sweep",
    "capsule_update",
    "capsules_claim_pending",
    "draft_create",
    "draft_delete",
    "draft_send",
    "draft_update",
    "receiver_resolve",
    "recipient_create",
    "recipient_delete",
    "recipient_update",
    "unlock_latest",
    "unlock_time_validate",
]
