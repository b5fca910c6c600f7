"""One transition table (`capsules.statemachine`) and the four places that act on it agree:
the model's django-fsm transitions, the state a reader sees at time t in Python, in SQL and
as an ORM filter, and the unlock sweep's SQL — for every state and time, on the database
of the lane (SQLite, and PostgreSQL in the PostgreSQL lane)."""

from __future__ import annotations

from datetime import UTC, datetime, timedelta
from typing import Any

import pytest
from django.db import connection
from django_fsm import can_proceed
from hypothesis import HealthCheck, example, given, settings
from hypothesis import strategies as st

from tessera.capsules import selectors, services, statemachine
from tessera.capsules.models import Capsule, CapsuleEvent, CapsuleState
from tessera.capsules.statemachine import CLOCK, STATES, TRANSITIONS, Transition

pytestmark = pytest.mark.django_db

BASE = datetime(2030, 6, 1, 12, 0, tzinfo=UTC)


def test_the_states_are_the_models_states() -> None:
    assert list(STATES) == list(CapsuleState.values)
    assert {t.target for t in CLOCK} == set(CapsuleEvent.Kind.values)


def test_the_models_fsm_transitions_are_the_table() -> None:
    declared = {
        (t.name, t.source, t.target)
        for t in Capsule._meta.get_field("state").get_all_transitions(Capsule)
    }
    assert declared == {(t.name, source, t.target) for t in TRANSITIONS for source in t.sources}


@pytest.mark.parametrize("state", STATES)
@pytest.mark.parametrize("move", [t.name for t in TRANSITIONS])
def test_fsm_allows_a_move_exactly_from_the_tables_sources(state: str, move: str) -> None:
    capsule = Capsule(state=state)
    assert can_proceed(getattr(capsule, move)) is (state in statemachine.transition(move).sources)


def test_a_table_one_step_cannot_evaluate_is_refused() -> None:
    sealed, unfolding, ready = statemachine.SEALED, statemachine.UNFOLDING, statemachine.READY
    # Unfolding listed first: a sealed capsule past both times would stop at UNFOLDING.
    with pytest.raises(ValueError, match="one step is not enough"):
        statemachine.check(
            (
                Transition("unfold", (sealed,), unfolding, due_at="unfolds_at"),
                Transition("unlock", (sealed, unfolding), ready, due_at="scheduled_unlock_at"),
            )
        )
    # READY only from UNFOLDING: a sealed capsule past both times needs two steps.
    with pytest.raises(ValueError, match="one step is not enough"):
        statemachine.check(
            (
                Transition("unlock", (unfolding,), ready, due_at="scheduled_unlock_at"),
                Transition("unfold", (sealed,), unfolding, due_at="unfolds_at"),
            )
        )
    with pytest.raises(ValueError, match="unknown states"):
        statemachine.check((Transition("lose", (sealed,), "lost"),))
    statemachine.check(TRANSITIONS)


def _db(value: datetime) -> Any:
    """A time as the database's own statements take it (SQLite compares ISO text)."""
    if connection.vendor == "postgresql":
        return value
    return connection.ops.adapt_datetimefield_value(value)


def _sql_effective_state(capsule: Capsule, now: datetime) -> str:
    pk = Capsule._meta.pk.get_db_prep_value(capsule.pk, connection)
    sql = statemachine.sql_effective_state(alias="c.", now="%(now)s")
    with connection.cursor() as cursor:
        cursor.execute(
            f"SELECT {sql} FROM capsules_capsule c WHERE c.id = %(id)s",  # noqa: S608
            {"now": _db(now), "id": pk},
        )
        return str(cursor.fetchone()[0])


def _sql_changes_at(capsule: Capsule, now: datetime) -> datetime | None:
    sql = statemachine.sql_changes_at(alias="c.", now="%(now)s")
    with connection.cursor() as cursor:
        cursor.execute(
            f"SELECT {sql} FROM capsules_capsule c WHERE c.id = %(id)s",  # noqa: S608
            {"now": now, "id": capsule.pk},
        )
        return cursor.fetchone()[0]


# Minutes around one instant, so that equal times (the `<=` boundaries) come up often.
_minutes = st.integers(min_value=-4, max_value=4)


@settings(
    max_examples=120, deadline=None, suppress_health_check=[HealthCheck.function_scoped_fixture]
)
@given(
    state=st.sampled_from(STATES),
    unlock=st.one_of(st.none(), _minutes),
    unfold_before=st.one_of(st.none(), st.integers(min_value=0, max_value=4)),
    now=_minutes,
)
@example(state="sealed", unlock=0, unfold_before=2, now=0)  # unlock time exactly now
@example(state="sealed", unlock=3, unfold_before=3, now=0)  # unfolds exactly now
@example(state="sealed", unlock=-1, unfold_before=1, now=0)  # both due: straight to READY
@example(state="unfolding", unlock=1, unfold_before=None, now=0)
def test_python_sql_orm_fsm_and_sweep_agree_on_every_state_and_time(  # noqa: PLR0917
    user: Any,
    other_user: Any,
    state: str,
    unlock: int | None,
    unfold_before: int | None,
    now: int,
) -> None:
    if unlock is None and state != CapsuleState.DRAFT:
        unlock = 2  # the database requires an unlock time once sealed
    unlock_at = None if unlock is None else BASE + timedelta(minutes=unlock)
    unfolds_at = (
        None
        if unlock_at is None or unfold_before is None
        else unlock_at - timedelta(minutes=unfold_before)
    )
    at = BASE + timedelta(minutes=now)
    Capsule.objects.all().delete()
    capsule = Capsule.objects.create(
        sender=user,
        receiver=other_user,
        title="t",
        state=state,
        scheduled_unlock_at=unlock_at,
        unfolds_at=unfolds_at,
    )
    times = {"scheduled_unlock_at": unlock_at, "unfolds_at": unfolds_at}

    # Python: the table read directly, and the model.
    expected = statemachine.effective_state(state, times, at)
    assert capsule.effective_state(at) == expected
    # SQL: the CASE the list statement uses.
    assert _sql_effective_state(capsule, at) == expected
    # ORM: exactly one state's filter finds the capsule, the expected one.
    matching = [
        s
        for s in STATES
        if Capsule.objects.filter(pk=capsule.pk).filter(selectors._state_q(s, at)).exists()
    ]
    assert matching == [expected]
    if connection.vendor == "postgresql":
        assert _sql_changes_at(capsule, at) == statemachine.changes_at(state, times, at)

    # FSM: the move the table makes is one django-fsm allows from the stored state.
    due = statemachine.due_transition(state, times, at)
    if due is not None:
        assert due.target == expected
        assert can_proceed(getattr(Capsule(state=state), due.name))

    # Sweep (its SQL for this database): stores what readers saw, with one event per move.
    services.capsule_unlock_sweep(now=at, notify_after=False)
    services.capsule_unlock_sweep(now=at, notify_after=False)
    capsule.refresh_from_db()
    assert capsule.state == expected
    events = list(CapsuleEvent.objects.filter(capsule=capsule).values_list("kind", flat=True))
    assert events == ([] if due is None else [due.target])
    Capsule.objects.all().delete()
