"""Saying "maybe" or "not going", and the host's door helpers."""

from __future__ import annotations

from typing import Any

from django.db import IntegrityError, transaction
from django.utils.translation import gettext as _

from tessera.accounts.models import User
from tessera.accounts.selectors import user_get, user_get_by_email
from tessera.audit.services import audit_record
from tessera.core.errors import NotFoundError
from tessera.events import statemachine as sm
from tessera.events.errors import HasPlaceError, HelperInvalidError, OwnEventError
from tessera.events.models import Attendance, EventHelper
from tessera.events.services.common import event_hosted, event_visible_locked, require_event_state
from tessera.events.services.tickets import attendance_set, live_ticket

RSVP_MOVES = {sm.MAYBE: "rsvp_maybe", sm.NOT_GOING: "rsvp_not_going"}


def attendance_rsvp(*, user: User, event_id: Any, status: str) -> Attendance:
    """Maybe / not going, for someone without a place (a place is given up by cancelling)."""
    with transaction.atomic():
        event = event_visible_locked(user=user, event_id=event_id)
        if event.host_id == user.pk:
            raise OwnEventError
        require_event_state(event, sm.PUBLISHED, sm.POSTPONED)
        if live_ticket(event=event, user_id=user.pk) is not None:
            raise HasPlaceError
        attendance = attendance_set(event=event, user=user, move=RSVP_MOVES[status])
        if attendance.status != status:
            raise HasPlaceError
        return attendance


def helper_add(
    *, host: Any, event_id: Any, user_id: Any = None, email: str | None = None
) -> EventHelper:
    with transaction.atomic():
        event = event_hosted(host=host, event_id=event_id)
        user = user_get(user_id=user_id) if user_id else user_get_by_email(email=email or "")
        if user is None:
            raise HelperInvalidError(fields={"userId" if user_id else "email": _("No such user.")})
        if user.pk == host.pk:
            raise OwnEventError
        try:
            with transaction.atomic():
                helper = EventHelper.objects.create(event=event, user=user)
        except IntegrityError:
            helper = EventHelper.objects.get(event=event, user=user)
        audit_record(
            action="events.helper.added", actor=host, target=event, changes={"user": str(user.pk)}
        )
        return helper


def helper_remove(*, host: Any, event_id: Any, user_id: Any) -> None:
    with transaction.atomic():
        event = event_hosted(host=host, event_id=event_id)
        deleted, _detail = EventHelper.objects.filter(event=event, user_id=user_id).delete()
        if not deleted:
            raise NotFoundError
        audit_record(
            action="events.helper.removed", actor=host, target=event, changes={"user": str(user_id)}
        )
