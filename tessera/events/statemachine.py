"""Every state machine of the events module, declared once.

Each `Machine` lists its states and its transitions. Everything that moves a state is built
from it:

- the django-fsm transitions on the models (`EVENT.fsm("publish")` gives the decorator's
  `source` and `target`);
- the services' guards (`machine.allows(name, state)`, used before any write so that a
  refused move is a typed 409 naming the current state);
- the moves the clock makes (a transition with `due_at`): the sweep selects their rows with
  `machine.q_due(name, now)` (the same sources, and the column whose time has come), and
  the partial indexes that serve it use `machine.q_sources(name)`.

The table holds only literals written here. `tests/test_statemachine.py` checks that the
models' django-fsm transitions are exactly these, and that a sweep moves exactly the rows
`q_due` names.
"""

from __future__ import annotations

from dataclasses import dataclass
from datetime import datetime
from typing import Any

from django.db.models import Q


@dataclass(frozen=True)
class Transition:
    """A move named like the model method that makes it."""

    name: str
    sources: tuple[str, ...]
    target: str
    # For a move the clock makes: the column (of the row, or reached through a relation,
    # "event__starts_at") whose time makes it due.
    due_at: str | None = None


@dataclass(frozen=True)
class Machine:
    field: str
    states: tuple[str, ...]
    transitions: tuple[Transition, ...]

    def __post_init__(self) -> None:
        names = [t.name for t in self.transitions]
        if len(set(names)) != len(names):
            raise ValueError(f"transition names repeat: {names}")
        for t in self.transitions:
            unknown = {*t.sources, t.target} - set(self.states)
            if unknown:
                raise ValueError(f"{t.name}: unknown states {sorted(unknown)}")

    def transition(self, name: str) -> Transition:
        for t in self.transitions:
            if t.name == name:
                return t
        raise KeyError(name)

    def fsm(self, name: str) -> dict[str, Any]:
        """The django-fsm `@transition` arguments of the move `name`."""
        t = self.transition(name)
        return {"source": list(t.sources), "target": t.target}

    def allows(self, name: str, state: str) -> bool:
        return state in self.transition(name).sources

    def q_sources(self, name: str, *, prefix: str = "") -> Q:
        sources = self.transition(name).sources
        if len(sources) == 1:
            return Q(**{f"{prefix}{self.field}": sources[0]})
        return Q(**{f"{prefix}{self.field}__in": list(sources)})

    def q_due(self, name: str, now: datetime) -> Q:
        """Rows the clock move `name` applies to at `now`."""
        t = self.transition(name)
        if t.due_at is None:
            raise ValueError(f"{name} is not moved by the clock")
        return self.q_sources(name) & Q(**{f"{t.due_at}__lte": now})

    @property
    def clock(self) -> tuple[Transition, ...]:
        return tuple(t for t in self.transitions if t.due_at)


# --- Events ---------------------------------------------------------------------------------
DRAFT, PUBLISHED, CANCELLED, COMPLETED, POSTPONED = (
    "draft",
    "published",
    "cancelled",
    "completed",
    "postponed",
)
EVENT = Machine(
    field="status",
    states=(DRAFT, PUBLISHED, CANCELLED, COMPLETED, POSTPONED),
    transitions=(
        # A postponed event is published again once it has new dates.
        Transition("publish", (DRAFT, POSTPONED), PUBLISHED),
        Transition("postpone", (PUBLISHED,), POSTPONED),
        Transition("cancel", (DRAFT, PUBLISHED, POSTPONED), CANCELLED),
        Transition("complete", (PUBLISHED,), COMPLETED, due_at="ends_at"),
    ),
)
# Where the host may still edit the event (title, times, capacity, price...).
EVENT_EDITABLE = (DRAFT, PUBLISHED, POSTPONED)

# --- Join requests --------------------------------------------------------------------------
PENDING, ACCEPTED, DECLINED, EXPIRED = "pending", "accepted", "declined", "expired"
REQUEST = Machine(
    field="status",
    states=(PENDING, ACCEPTED, DECLINED, CANCELLED, EXPIRED),
    transitions=(
        Transition("accept", (PENDING,), ACCEPTED),
        Transition("decline", (PENDING,), DECLINED),
        Transition("cancel", (PENDING, ACCEPTED), CANCELLED),
        # A request (or a waitlist place) still pending when the event starts lapses.
        Transition("expire", (PENDING,), EXPIRED, due_at="event__starts_at"),
    ),
)

# --- Invites --------------------------------------------------------------------------------
INVITE = Machine(
    field="status",
    states=(PENDING, ACCEPTED, DECLINED, EXPIRED),
    transitions=(
        Transition("accept", (PENDING,), ACCEPTED),
        Transition("decline", (PENDING,), DECLINED),
        Transition("expire", (PENDING,), EXPIRED, due_at="expires_at"),
    ),
)

# --- Attendance -----------------------------------------------------------------------------
GOING, NOT_GOING, MAYBE, CHECKED_IN = "going", "not_going", "maybe", "checked_in"
ATTENDANCE = Machine(
    field="status",
    states=(GOING, NOT_GOING, MAYBE, CHECKED_IN, CANCELLED),
    transitions=(
        # Saying "maybe" or "not going" is open to anyone who can see the event and holds
        # no place; "going" comes only with a confirmed ticket.
        Transition("rsvp_maybe", (NOT_GOING, MAYBE, CANCELLED), MAYBE),
        Transition("rsvp_not_going", (MAYBE, NOT_GOING, CANCELLED), NOT_GOING),
        Transition("confirm", (NOT_GOING, MAYBE, CANCELLED, GOING), GOING),
        Transition("check_in", (GOING, CHECKED_IN), CHECKED_IN),
        Transition("cancel", (GOING, MAYBE, NOT_GOING), CANCELLED),
    ),
)

# --- Tickets --------------------------------------------------------------------------------
RESERVED, VALID, REVOKED = "reserved", "valid", "revoked"
TICKET = Machine(
    field="status",
    states=(RESERVED, VALID, REVOKED, EXPIRED),
    transitions=(
        # Paid (or free: a free ticket is confirmed the moment it is issued). A payment that
        # arrives after the hold lapsed confirms the expired ticket if a place is free.
        Transition("confirm", (RESERVED, EXPIRED), VALID),
        Transition("revoke", (RESERVED, VALID), REVOKED),
        Transition("expire", (RESERVED,), EXPIRED, due_at="hold_expires_at"),
    ),
)
# States in which a ticket holds one of the event's places.
TICKET_HOLDS_PLACE = (RESERVED, VALID)

MACHINES = {"event": EVENT, "request": REQUEST, "invite": INVITE, "attendance": ATTENDANCE}
MACHINES["ticket"] = TICKET
