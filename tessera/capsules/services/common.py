"""Helpers shared by the capsule services: the clock, locked reads, address checks."""

from __future__ import annotations

from datetime import UTC, datetime, timedelta
from typing import Any

import phonenumbers
from django.core.exceptions import ValidationError
from django.core.validators import validate_email
from django.utils import timezone
from django.utils.translation import gettext as _

from tessera.capsules.errors import CapsuleStateError, UnlockTimeInvalidError, UnlockTimeNaiveError
from tessera.capsules.models import Capsule, CapsuleState, Recipient
from tessera.core.errors import InvalidInputError, NotFoundError

MIN_AHEAD = timedelta(minutes=1)
MAX_AHEAD_YEARS = 5
UNSET: Any = object()


def _now() -> datetime:
    return timezone.now()


def _email_checked(email: str, *, field: str) -> str:
    email = email.strip().lower()
    try:
        validate_email(email)
    except ValidationError:
        raise InvalidInputError(
            _("The email address is not valid."), fields={field: _("Not a valid email address.")}
        ) from None
    return email


def _phone_checked(phone: str, *, field: str) -> str:
    """`phone` in canonical E.164 (the form accounts store), or a 422 on `field`."""
    text = phone.strip()
    try:
        parsed = phonenumbers.parse(text, None) if text.startswith("+") else None
    except phonenumbers.NumberParseException:
        parsed = None
    if parsed is None or not phonenumbers.is_valid_number(parsed):
        raise InvalidInputError(
            _("The phone number is not valid."),
            fields={field: _("Use the international form, for example +27821234567.")},
        )
    return phonenumbers.format_number(parsed, phonenumbers.PhoneNumberFormat.E164)


def _locked_capsule(*, capsule_id: Any) -> Capsule:
    capsule = (
        Capsule.objects.select_for_update(of=("self",))
        .select_related("sender", "receiver")
        .filter(pk=capsule_id)
        .first()
    )
    if capsule is None:
        raise NotFoundError
    return capsule


def _sender_capsule(*, sender: Any, capsule_id: Any) -> Capsule:
    capsule = _locked_capsule(capsule_id=capsule_id)
    if capsule.sender_id != sender.pk:
        raise NotFoundError
    return capsule


def _require_draft(capsule: Capsule) -> None:
    if capsule.state != CapsuleState.DRAFT:
        raise CapsuleStateError(state=str(capsule.state))


def _recipient_for_owner(*, owner: Any, recipient_id: Any) -> Recipient:
    recipient = Recipient.objects.filter(pk=recipient_id, owner=owner).first()
    if recipient is None:
        raise NotFoundError(_("The recipient was not found."))
    return recipient


def years_later(moment: datetime, years: int) -> datetime:
    """The same date and time `years` calendar years after `moment`; 29 February becomes
    28 February in a year that has none."""
    try:
        return moment.replace(year=moment.year + years)
    except ValueError:  # 29 February, and the target year is not a leap year
        return moment.replace(year=moment.year + years, day=28)


def unlock_latest(*, now: datetime) -> datetime:
    """The latest unlock time a capsule sealed at `now` may have: five calendar years on,
    counted in UTC (a fixed number of days was a day short across two leap days)."""
    return years_later(now.astimezone(UTC), MAX_AHEAD_YEARS)


def unlock_time_validate(*, unlock_at: datetime, now: datetime) -> None:
    if timezone.is_naive(unlock_at):
        raise UnlockTimeNaiveError(fields={"scheduledUnlockAt": _("A time zone is required.")})
    if unlock_at <= now + MIN_AHEAD or unlock_at > unlock_latest(now=now):
        raise UnlockTimeInvalidError(
            fields={"scheduledUnlockAt": _("Must be more than 1 minute and at most 5 years ahead.")}
        )


def _notify_task() -> Any:
    from tessera.capsules.tasks import capsule_notify_events

    return capsule_notify_events
