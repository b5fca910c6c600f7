"""The capsule state machine, declared once.

`TRANSITIONS` is the only place the moves are written. Everything that knows about them is
built from it:

- the django-fsm transitions on `Capsule` (`fsm("seal")` gives the decorator's source and
  target);
- the state a reader sees at a time t (`effective_state`, and the same as SQL,
  `sql_effective_state`, and as an ORM filter, `q_effective`), with when it next changes
  by the clock (`changes_at`, `sql_changes_at`);
- the unlock sweep's statements for PostgreSQL and SQLite (`sql_sweep_pg`,
  `sql_sweep_sqlite`), one per clock transition, in precedence order;
- the sweep's partial indexes (`q_movable`).

A transition with `due_at` is moved by the clock: it is due once that column's time has
come. When several are due from one state, the first in `CLOCK` wins (a capsule found long
past its unlock time goes straight to READY, never through UNFOLDING). `_check` refuses at
import a table where applying the first due transition once would not reach the same state
as applying due transitions until none is left — the one assumption that lets a single SQL
`CASE` (and a single sweep pass) compute the state. The table holds only literals written
here: the SQL built from it interpolates state names and column names, never input.

`tests/test_statemachine.py` (in this app) checks the model's django-fsm transitions, the
Python and SQL effective state, the ORM filter and the sweep against this table for every
state and time, on SQLite and on PostgreSQL.
"""

from __future__ import annotations

from collections.abc import Mapping
from dataclasses import dataclass
from datetime import datetime
from functools import reduce
from operator import or_
from typing import Any

from django.db.models import Q

DRAFT, SEALED, UNFOLDING, READY, OPENED = "draft", "sealed", "unfolding", "ready", "opened"
STATES = (DRAFT, SEALED, UNFOLDING, READY, OPENED)


@dataclass(frozen=True)
class Transition:
    """A move named like the model method that makes it (a django-fsm transition)."""

    name: str
    sources: tuple[str, ...]
    target: str
    # For a move the clock makes: the column whose time makes it due (`<= now`).
    due_at: str | None = None


TRANSITIONS: tuple[Transition, ...] = (
    Transition("seal", (DRAFT,), SEALED),
    Transition("unlock", (SEALED, UNFOLDING), READY, due_at="scheduled_unlock_at"),
    Transition("unfold", (SEALED,), UNFOLDING, due_at="unfolds_at"),
    Transition("open", (READY,), OPENED),
)
# The moves the clock makes, the one that wins first when several are due.
CLOCK: tuple[Transition, ...] = tuple(t for t in TRANSITIONS if t.due_at)
TIME_COLUMNS: tuple[str, ...] = tuple(dict.fromkeys(str(t.due_at) for t in CLOCK))


def check(transitions: tuple[Transition, ...]) -> None:
    """Refuse a table the generated code would get wrong (see the module's docstring)."""
    names = [t.name for t in transitions]
    if len(set(names)) != len(names):
        raise ValueError(f"transition names repeat: {names}")
    for t in transitions:
        unknown = {*t.sources, t.target} - set(STATES)
        if unknown:
            raise ValueError(f"{t.name}: unknown states {sorted(unknown)}")
    clock = [t for t in transitions if t.due_at]
    for index, t in enumerate(clock):
        for other_index, u in enumerate(clock):
            # Reaching t's target must not make another clock move possible, unless that
            # move precedes t and was possible from every state t leaves: then it, not t,
            # was the first due one.
            if t.target in u.sources and not (
                other_index < index and set(t.sources) <= set(u.sources)
            ):
                raise ValueError(f"{u.name} may follow {t.name}: one step is not enough")


check(TRANSITIONS)


def transition(name: str) -> Transition:
    return next(t for t in TRANSITIONS if t.name == name)


def fsm(name: str) -> dict[str, Any]:
    """The django-fsm `@transition` arguments of the move `name`."""
    t = transition(name)
    return {"source": list(t.sources), "target": t.target}


# --- Python ---------------------------------------------------------------------------------


def due_transition(
    state: str, times: Mapping[str, datetime | None], now: datetime
) -> Transition | None:
    """The clock move a capsule in `state` with these `times` makes at `now`, if any."""
    for t in CLOCK:
        at = times.get(str(t.due_at))
        if state in t.sources and at is not None and at <= now:
            return t
    return None


def effective_state(state: str, times: Mapping[str, datetime | None], now: datetime) -> str:
    """The state a reader sees at `now`: a due capsule is READY (or UNFOLDING) before the
    sweep has moved it."""
    due = due_transition(state, times, now)
    return due.target if due is not None else state


def changes_at(state: str, times: Mapping[str, datetime | None], now: datetime) -> datetime | None:
    """When the state a reader sees next changes by the clock alone (None: never)."""
    future = [
        at
        for t in CLOCK
        if state in t.sources and (at := times.get(str(t.due_at))) is not None and at > now
    ]
    return min(future, default=None)


# --- ORM ------------------------------------------------------------------------------------


def _q_state(states: tuple[str, ...]) -> Q:
    return Q(state=states[0]) if len(states) == 1 else Q(state__in=list(states))


def q_movable(t: Transition) -> Q:
    """The states `t` moves from (the sweep's partial-index predicate)."""
    return _q_state(t.sources)


def _q_due(t: Transition, now: Any, sources: tuple[str, ...] | None = None) -> Q:
    return _q_state(sources or t.sources) & Q(**{f"{t.due_at}__lte": now})


def _preceding(t: Transition, source: str) -> list[Transition]:
    return [u for u in CLOCK[: CLOCK.index(t)] if source in u.sources]


def q_effective(state: str, now: Any) -> Q:
    """Capsules whose state, as a reader sees it at `now`, is `state`."""
    leaving = [t for t in CLOCK if state in t.sources]
    stays = Q(state=state)
    if leaving:
        stays &= ~reduce(or_, (_q_due(t, now, (state,)) for t in leaving))
    arrivals = [stays]
    for t in CLOCK:
        if t.target != state:
            continue
        for source in t.sources:
            arrives = _q_due(t, now, (source,))
            for u in _preceding(t, source):
                arrives &= ~_q_due(u, now, (source,))
            arrivals.append(arrives)
    return reduce(or_, arrivals)


# --- SQL ------------------------------------------------------------------------------------


def _literals(states: tuple[str, ...]) -> str:
    return ", ".join(f"'{state}'" for state in states)


def _sql_due(t: Transition, *, alias: str, now: str, sources: tuple[str, ...] | None = None) -> str:
    return f"{alias}state IN ({_literals(sources or t.sources)}) AND {alias}{t.due_at} <= {now}"


def _sql_moves(t: Transition, *, alias: str, now: str) -> str:
    """Rows `t` moves at `now`: due, and no preceding clock move due instead."""
    parts = [_sql_due(t, alias=alias, now=now)]
    parts += [
        f"({alias}{u.due_at} IS NULL OR {alias}{u.due_at} > {now})"
        for u in CLOCK[: CLOCK.index(t)]
        if set(t.sources) & set(u.sources)
    ]
    return " AND ".join(parts)


def sql_effective_state(*, alias: str = "", now: str = "%(now)s") -> str:
    """`effective_state` as a SQL expression over a capsule row (`alias` like "r.")."""
    whens = " ".join(f"WHEN {_sql_due(t, alias=alias, now=now)} THEN '{t.target}'" for t in CLOCK)
    return f"CASE {whens} ELSE {alias}state END"


def sql_changes_at(*, alias: str = "", now: str = "%(now)s") -> str:
    """`changes_at` as a PostgreSQL expression (LEAST skips NULLs)."""
    cases = ", ".join(
        f"CASE WHEN {alias}state IN ({_literals(t.sources)}) AND {alias}{t.due_at} > {now} "
        f"THEN {alias}{t.due_at} END"
        for t in CLOCK
    )
    return f"LEAST({cases})"


_TABLE = "capsules_capsule"
_EVENTS = "capsules_capsuleevent"


def sql_sweep_pg(t: Transition) -> str:
    """One batch of `t` on PostgreSQL: move up to `%(batch)s` due capsules and record one
    event per move in the same statement (the unique event row is the last guard). The
    outer condition repeats the inner one, checked again on the row as it is after any
    concurrent change."""
    moves = _sql_moves(t, alias="", now="%(now)s")
    return f"""
        WITH moved AS (
            UPDATE {_TABLE} AS c SET state = '{t.target}', updated_at = %(now)s
            WHERE c.id IN (
                SELECT id FROM {_TABLE} WHERE {moves} LIMIT %(batch)s
            ) AND {_sql_moves(t, alias="c.", now="%(now)s")}
            RETURNING c.id
        )
        INSERT INTO {_EVENTS} (capsule_id, kind, created_at)
        SELECT id, '{t.target}', %(now)s FROM moved
        ON CONFLICT (capsule_id, kind) DO NOTHING
    """  # noqa: S608 - only names and state literals from the table above


def sql_sweep_sqlite(t: Transition) -> tuple[str, str]:
    """`t` on SQLite, which runs write transactions one at a time: record the events, then
    move the same rows (both statements in one transaction)."""
    moves = _sql_moves(t, alias="", now="%(now)s")
    record = (
        f"INSERT INTO {_EVENTS} (capsule_id, kind, created_at) "  # noqa: S608
        f"SELECT id, '{t.target}', %(now)s FROM {_TABLE} WHERE {moves} "
        "ON CONFLICT (capsule_id, kind) DO NOTHING"
    )
    move = f"UPDATE {_TABLE} SET state = '{t.target}', updated_at = %(now)s WHERE {moves}"  # noqa: S608
    return record, move
