"""Every write of the events module, one submodule per concern:

- `events`: venues and events (create, edit, publish, postpone, cancel);
- `requests`: join requests, the host's decisions, the waitlist, giving a place up;
- `invites`: invitations, to accounts or to addresses claimed at sign-up;
- `attendance`: maybe / not going, door helpers;
- `tickets`, `organisers`: tickets and the keys that sign them;
- `payments`: paid tickets through `tessera.payments`;
- `checkins`: door scans, offline batches, the signed door list;
- `sweep`: the moves the clock makes, and reminders;
- `departure`: a deleted account's hosted events and places.

Callers import from `tessera.events.services`.
"""

from tessera.events.services.attendance import attendance_rsvp, helper_add, helper_remove
from tessera.events.services.checkins import (
    MAX_BATCH,
    Scan,
    ScanOutcome,
    checkin_scan,
    checkins_batch,
    checkins_export,
    door_event,
)
from tessera.events.services.departure import (
    Departure,
    account_departure,
    account_has_event_ties,
)
from tessera.events.services.events import (
    event_cancel,
    event_create,
    event_postpone,
    event_publish,
    event_tell_people_now,
    event_update,
    venue_create,
    venue_delete,
    venue_update,
)
from tessera.events.services.invites import (
    invite_accept,
    invite_create,
    invite_decline,
    invites_claim_pending,
)
from tessera.events.services.organisers import (
    keys_reencrypt,
    organiser_active_key,
    organiser_key_rotate,
)
from tessera.events.services.payments import (
    on_ticket_paid,
    on_ticket_payment_failed,
    on_ticket_refunded,
    order_cancel_now,
    ticket_checkout,
    ticket_refund_now,
)
from tessera.events.services.requests import (
    Decision,
    attendance_cancel,
    request_cancel,
    request_create,
    request_decide_one,
    requests_decide,
    waitlist_promote,
)
from tessera.events.services.sweep import SweepResult, event_remind_now, events_sweep

__all__ = [
    "MAX_BATCH",
    "Decision",
    "Departure",
    "Scan",
    "ScanOutcome",
    "SweepResult",
    "account_departure",
    "account_has_event_ties",
    "attendance_cancel",
    "attendance_rsvp",
    "checkin_scan",
    "checkins_batch",
    "checkins_export",
    "door_event",
    "event_cancel",
    "event_create",
    "event_postpone",
    "event_publish",
    "event_remind_now",
    "event_tell_people_now",
    "event_update",
    "events_sweep",
    "helper_add",
    "helper_remove",
    "invite_accept",
    "invite_create",
    "invite_decline",
    "invites_claim_pending",
    "keys_reencrypt",
    "on_ticket_paid",
    "on_ticket_payment_failed",
    "on_ticket_refunded",
    "order_cancel_now",
    "organiser_active_key",
    "organiser_key_rotate",
    "request_cancel",
    "request_create",
    "request_decide_one",
    "requests_decide",
    "ticket_checkout",
    "ticket_refund_now",
    "venue_create",
    "venue_delete",
    "venue_update",
    "waitlist_promote",
]
