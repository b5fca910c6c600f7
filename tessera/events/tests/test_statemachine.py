"""The django-fsm transitions on the models are exactly the declared tables, and the sweep
moves exactly the rows each clock transition's condition names."""

from __future__ import annotations

from datetime import timedelta
from typing import Any

import pytest
from django.utils import timezone
from django_fsm import FSMField

from tessera.events import statemachine as sm
from tessera.events.models import Attendance, Event, Invite, JoinRequest, Ticket
from tessera.events.services import events_sweep
from tessera.events.tests.conftest import make_user

MODELS = {
    "event": Event,
    "request": JoinRequest,
    "invite": Invite,
    "attendance": Attendance,
    "ticket": Ticket,
}


def _declared(model: Any) -> dict[str, tuple[set[str], str]]:
    field = next(f for f in model._meta.fields if isinstance(f, FSMField))
    found: dict[str, tuple[set[str], str]] = {}
    for name, method in vars(model).items():
        meta = getattr(method, "_django_fsm", None)
        if meta is None or getattr(meta.field, "name", meta.field) != field.name:
            continue
        sources = set(meta.transitions)
        targets = {t.target for t in meta.transitions.values()}
        assert len(targets) == 1, name
        found[name] = (sources, targets.pop())
    return found


@pytest.mark.parametrize("machine_name", sorted(MODELS))
def test_model_transitions_are_the_declared_table(machine_name: str) -> None:
    machine = sm.MACHINES[machine_name]
    declared = {t.name: (set(t.sources), t.target) for t in machine.transitions}
    assert _declared(MODELS[machine_name]) == declared
    field = next(f for f in MODELS[machine_name]._meta.fields if isinstance(f, FSMField))
    assert {value for value, _label in field.choices} == set(machine.states)


def test_a_table_with_unknown_states_is_refused() -> None:
    with pytest.raises(ValueError, match="unknown states"):
        sm.Machine(field="status", states=("a",), transitions=(sm.Transition("go", ("a",), "b"),))


@pytest.mark.django_db
def test_the_sweep_moves_exactly_the_rows_the_table_names(settings: Any) -> None:
    settings.EVENTS_REMINDER_BEFORE_MINUTES = 60
    now = timezone.now()
    host = make_user("sweep-host@example.com")
    guest = make_user("sweep-guest@example.com")

    def event(**fields: Any) -> Event:
        defaults = {
            "host": host,
            "title": "E",
            "starts_at": now + timedelta(days=1),
            "ends_at": now + timedelta(days=1, hours=2),
            "capacity": 10,
            "online_url": "https://example.com",
            "status": sm.PUBLISHED,
        }
        return Event.objects.create(**{**defaults, **fields})

    over = event(starts_at=now - timedelta(hours=3), ends_at=now - timedelta(minutes=1))
    running = event(starts_at=now - timedelta(hours=1), ends_at=now + timedelta(hours=1))
    draft_over = event(
        status=sm.DRAFT, starts_at=now - timedelta(hours=3), ends_at=now - timedelta(hours=1)
    )
    soon = event(starts_at=now + timedelta(minutes=30), ends_at=now + timedelta(hours=2))
    later = event()
    waiting_started = JoinRequest.objects.create(event=running, user=guest)
    waiting_later = JoinRequest.objects.create(event=later, user=guest)
    lapsed = Invite.objects.create(
        event=later,
        inviter=host,
        invitee_email="a@example.com",
        expires_at=now - timedelta(seconds=1),
    )
    fresh = Invite.objects.create(
        event=later, inviter=host, invitee_email="b@example.com", expires_at=now + timedelta(days=1)
    )
    later.places_taken = 1
    later.save()
    hold = Ticket.objects.create(
        event=later,
        holder=guest,
        code="HOLD2345",
        key_id="k",
        issued_at=now,
        status=sm.RESERVED,
        hold_expires_at=now - timedelta(seconds=1),
        price_minor=100,
        currency="ZAR",
    )

    result = events_sweep(at=now)

    assert (
        result.completed,
        result.requests_expired,
        result.invites_expired,
        result.holds_expired,
    ) == (1, 1, 1, 1)
    assert result.reminded == 1
    states = {e.pk: e.status for e in Event.objects.all()}
    assert states[over.pk] == sm.COMPLETED
    assert states[running.pk] == sm.PUBLISHED
    assert states[draft_over.pk] == sm.DRAFT
    assert Event.objects.get(pk=soon.pk).reminded_at is not None
    assert Event.objects.get(pk=later.pk).reminded_at is None
    assert JoinRequest.objects.get(pk=waiting_started.pk).status == sm.EXPIRED
    assert JoinRequest.objects.get(pk=waiting_later.pk).status == sm.PENDING
    assert Invite.objects.get(pk=lapsed.pk).status == sm.EXPIRED
    assert Invite.objects.get(pk=fresh.pk).status == sm.PENDING
    assert Ticket.objects.get(pk=hold.pk).status == sm.EXPIRED
    assert Event.objects.get(pk=later.pk).places_taken == 0
    # Nothing is due twice.
    assert events_sweep(at=now) == type(result)()
