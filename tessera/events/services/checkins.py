"""Door scans: one at a time online, or many uploaded later from a scanner that was
offline; and the signed list a door team downloads to check tickets without a network.

Every scan is recorded, whatever its answer, under its client nonce (unique per event): a
retried scan finds its record and gets the same answer; the same nonce with another ticket
is refused. Two scans of one ticket are serialised on the ticket's row lock, so a ticket is
never let in twice.
"""

from __future__ import annotations

import hashlib
from collections.abc import Sequence
from contextlib import nullcontext
from dataclasses import dataclass
from datetime import datetime, timedelta
from functools import lru_cache
from typing import Any

import jwt
from django.contrib.auth import get_user_model
from django.db import IntegrityError, connection, transaction
from django.db.models import Exists, F, OuterRef, Value
from django.db.models.functions import Coalesce
from django.utils import timezone
from django.utils.translation import gettext as _

from tessera.accounts.models import User
from tessera.core.analytics import AnalyticsEvent, analytics_capture
from tessera.events import keys
from tessera.events import statemachine as sm
from tessera.events import tickets as secrets
from tessera.events.access import door_event, is_host
from tessera.events.errors import (
    EventNotFoundError,
    NonceReusedError,
    ScanTimeInvalidError,
    TicketOrCodeRequiredError,
)
from tessera.events.models import (
    Attendance,
    CheckIn,
    Direction,
    Event,
    EventHelper,
    OrganiserKey,
    ScanResult,
    Ticket,
)
from tessera.events.services.common import now
from tessera.events.services.organisers import organiser_active_key
from tessera.events.services.tickets import attendance_set

CLOCK_SKEW = timedelta(minutes=5)
MAX_BATCH = 1000


@dataclass(frozen=True)
class Scan:
    nonce: str
    scanned_at: datetime
    direction: str = Direction.ENTRY
    ticket: str | None = None
    code: str | None = None


@dataclass(frozen=True)
class ScanOutcome:
    checkin: CheckIn
    replayed: bool

    @property
    def result(self) -> str:
        return str(self.checkin.result)


def scan_field(name: str, index: int | None) -> str:
    """A scan's field as the client sent it: `scannedAt` for a single scan, and
    `scans.N.scannedAt` in a batch (a batch of one too), as request validation names it."""
    return name if index is None else f"scans.{index}.{name}"


def scans_checked(scans: Sequence[Scan], *, at: datetime, batch: bool) -> None:
    """What a scan's own fields must be, before anything is looked up."""
    for index, scan in enumerate(scans):
        prefix = scan_field("", index if batch else None)
        if bool(scan.ticket) == bool(scan.code):
            raise TicketOrCodeRequiredError(
                fields={f"{prefix}ticket": _("Give a ticket or a code.")}
            )
        if timezone.is_naive(scan.scanned_at) or scan.scanned_at > at + CLOCK_SKEW:
            raise ScanTimeInvalidError(
                fields={f"{prefix}scannedAt": _("A past time with a time zone.")}
            )


def scan_not_before(scan: Scan, existed_at: datetime, *, field: str, message: str) -> None:
    """Refuse a scan dated more than CLOCK_SKEW before what it scans existed (the ticket's
    issue, or the event's creation when no ticket is known): a scanner's clock that far
    wrong would put nonsense into the door's log and the entry/exit order."""
    if scan.scanned_at < existed_at - CLOCK_SKEW:
        raise ScanTimeInvalidError(message, fields={field: message})


def _before_event(event: Event, scan: Scan, *, field: str) -> None:
    scan_not_before(
        scan, event.created_at, field=field, message=_("The scan time is before the event existed.")
    )


def _before_ticket(ticket: Ticket, scan: Scan, *, field: str) -> None:
    scan_not_before(
        scan,
        ticket.issued_at,
        field=field,
        message=_("The scan time is before the ticket was issued."),
    )


def _presented(scan: Scan) -> str:
    text = (
        f"secret:{scan.ticket}"
        if scan.ticket
        else f"code:{secrets.code_normalise(scan.code or '')}"
    )
    return hashlib.sha256(text.encode()).hexdigest()


@lru_cache(maxsize=4096)
def _public_key(key_id: str) -> tuple[str, Any] | None:
    """A key's public half and organiser (keys never change once made: safe to keep)."""
    row = (
        OrganiserKey.objects.filter(key_id=key_id)
        .values_list("public_key", "organiser__user_id")
        .first()
    )
    return (row[0], row[1]) if row else None


def _locked_ticket(**lookup: Any) -> Ticket | None:
    return (
        Ticket.objects.select_for_update(of=("self",))
        .select_related("holder")
        .filter(**lookup)
        .first()
    )


def _resolve(event: Event, scan: Scan) -> tuple[Ticket | None, str | None]:
    """The ticket presented, or the answer when there is none to let in."""
    if scan.code:
        ticket = _locked_ticket(event=event, code=secrets.code_normalise(scan.code))
        return (ticket, None) if ticket else (None, ScanResult.UNKNOWN)
    secret = scan.ticket or ""
    try:
        key_id = secrets.secret_key_id(secret)
    except secrets.SecretUnknownError:
        return None, ScanResult.UNKNOWN
    known = _public_key(key_id)
    if known is None:
        return None, ScanResult.UNKNOWN
    public_b64, signer_id = known
    expired = False
    try:
        claims = secrets.secret_verify(secret, public_b64=public_b64, key_id=key_id)
    except secrets.SecretUnknownError:
        return None, ScanResult.UNKNOWN
    except secrets.SecretExpiredError as exc:
        claims, expired = exc.claims, True
    if claims.event_id != event.pk:
        return None, ScanResult.WRONG_EVENT
    if signer_id != event.host_id:
        return None, ScanResult.UNKNOWN  # signed by another organiser's key
    ticket = _locked_ticket(pk=claims.ticket_id, event=event)
    if ticket is None or ticket.holder_id != claims.holder_id:
        return None, ScanResult.UNKNOWN
    return ticket, (ScanResult.EXPIRED if expired else None)


def _attendance_at_door(ticket: Ticket, scan: Scan) -> None:
    """The attendance's `check_in` move, as one UPDATE from the table's sources (a valid
    ticket's holder is `going` or already `checked_in`); an exit records the time out."""
    changes: dict[str, Any] = {"updated_at": timezone.now()}
    if scan.direction == Direction.ENTRY:
        changes["status"] = sm.ATTENDANCE.transition("check_in").target
        changes["checked_in_at"] = Coalesce(F("checked_in_at"), Value(scan.scanned_at))
    else:
        changes["checked_out_at"] = scan.scanned_at
    moved = Attendance.objects.filter(
        sm.ATTENDANCE.q_sources("check_in"), event_id=ticket.event_id, user_id=ticket.holder_id
    ).update(**changes)
    if not moved:  # no row yet (a ticket issued around the services): make it the long way
        attendance_set(event=ticket.event, user=ticket.holder, move="check_in", now=scan.scanned_at)


def _decide(event: Event, ticket: Ticket, scan: Scan, at: datetime) -> str:
    if ticket.status == sm.REVOKED:
        return ScanResult.REVOKED
    if ticket.status != sm.VALID:
        return ScanResult.NOT_PAID
    if scan.direction == Direction.ENTRY:
        if ticket.inside:
            return ScanResult.ALREADY_CHECKED_IN
        ticket.inside = True
        ticket.save(update_fields=["inside", "updated_at"])
        _attendance_at_door(ticket, scan)
        analytics_capture(
            distinct_id=str(ticket.holder_id),
            event=AnalyticsEvent.EVENT_CHECKED_IN,
            properties={"event_id": str(event.pk), "offline": scan.scanned_at < at - CLOCK_SKEW},
        )
        return ScanResult.OK
    if not ticket.inside:
        return ScanResult.NOT_CHECKED_IN
    ticket.inside = False
    ticket.save(update_fields=["inside", "updated_at"])
    _attendance_at_door(ticket, scan)
    return ScanResult.OK


def _replay(existing: CheckIn, presented: str) -> ScanOutcome:
    if existing.presented_hash != presented:
        raise NonceReusedError(fields={"nonce": _("Already used for another ticket.")})
    return ScanOutcome(checkin=existing, replayed=True)


def _recorded(event: Event, nonce: str) -> CheckIn | None:
    return (
        CheckIn.objects.select_related("ticket", "ticket__holder")
        .filter(event=event, nonce=nonce)
        .first()
    )


def _record(
    *, event: Event, scanner: Any, scan: Scan, offline: bool, at: datetime, field: str
) -> CheckIn:
    """Decide and record one new scan (raises IntegrityError when its nonce is taken, and
    ScanTimeInvalidError when it is dated before its ticket was issued)."""
    ticket, result = _resolve(event, scan)
    if ticket is not None:
        _before_ticket(ticket, scan, field=field)
    if result is None and ticket is not None:
        result = _decide(event, ticket, scan, at)
    return CheckIn.objects.create(
        event=event,
        ticket=ticket,
        scanned_by=scanner,
        nonce=scan.nonce,
        presented_hash=_presented(scan),
        direction=scan.direction,
        result=result or ScanResult.UNKNOWN,
        scanned_at=scan.scanned_at,
        offline=offline,
    )


def _apply(
    *, event: Event, scanner: Any, scan: Scan, offline: bool, at: datetime, field: str
) -> ScanOutcome:
    """One scan of a batch, in its own savepoint."""
    existing = _recorded(event, scan.nonce)
    if existing is not None:
        return _replay(existing, _presented(scan))
    try:
        with transaction.atomic():
            checkin = _record(
                event=event, scanner=scanner, scan=scan, offline=offline, at=at, field=field
            )
    except IntegrityError:
        # The same nonce arrived twice at once: the other one's record stands (our changes
        # rolled back with the savepoint).
        existing = _recorded(event, scan.nonce)
        if existing is None:
            raise
        return _replay(existing, _presented(scan))
    return ScanOutcome(checkin=checkin, replayed=False)


def _door_for_scan(*, user: User, event_id: Any, nonce: str) -> tuple[Event, bool]:
    """The event for its host or a helper (anyone else: 404), and whether the nonce is
    already recorded: one statement (the helper and the nonce as EXISTS)."""
    event = (
        Event.objects.filter(pk=event_id)
        .annotate(
            scanner_helps=Exists(EventHelper.objects.filter(event=OuterRef("pk"), user=user)),
            nonce_seen=Exists(CheckIn.objects.filter(event=OuterRef("pk"), nonce=nonce)),
        )
        .first()
    )
    if event is None or not (is_host(event, user) or event.scanner_helps):
        raise EventNotFoundError
    return event, bool(event.nonce_seen)


def _fast_claims(event: Event, scan: Scan) -> secrets.Claims | None:
    """The claims of a secret that needs nothing but the ticket's row to decide: signed by
    the event's host, for this event, not expired. Anything else takes the long way."""
    if not scan.ticket or connection.vendor != "postgresql":
        return None
    try:
        key_id = secrets.secret_key_id(scan.ticket)
        known = _public_key(key_id)
        if known is None or known[1] != event.host_id:
            return None
        claims = secrets.secret_verify(scan.ticket, public_b64=known[0], key_id=key_id)
    except (secrets.SecretUnknownError, secrets.SecretExpiredError):
        return None
    return claims if claims.event_id == event.pk else None


def _scan_statement() -> str:
    """The door's usual case as one statement (PostgreSQL; atomic on its own, so no
    BEGIN/COMMIT round trips): move a valid ticket in (or out) only if it is not already
    there and was issued by the scan's time (within CLOCK_SKEW: a scan dated earlier takes
    the long way, which refuses it), the holder's attendance by the table's `check_in`
    move, and the record. The
    ticket's UPDATE takes its row lock: a second door scanning the same ticket waits, then
    finds the condition false and takes the long way (already_checked_in)."""
    sources = ", ".join(f"'{state}'" for state in sm.ATTENDANCE.transition("check_in").sources)
    ticket, attendance = Ticket._meta.db_table, Attendance._meta.db_table
    checkin, users = CheckIn._meta.db_table, get_user_model()._meta.db_table
    return f"""
    WITH t AS (
        UPDATE {ticket} SET inside = %(inside)s, updated_at = %(now)s
        WHERE id = %(ticket)s AND event_id = %(event)s AND holder_id = %(holder)s
          AND status = %(valid)s AND inside = NOT %(inside)s AND issued_at <= %(issued_by)s
        RETURNING id, holder_id, code, status
    ), a AS (
        UPDATE {attendance} SET updated_at = %(now)s,
            status = CASE WHEN %(entry)s THEN %(checked_in)s ELSE status END,
            checked_in_at = CASE WHEN %(entry)s THEN COALESCE(checked_in_at, %(scanned_at)s)
                                 ELSE checked_in_at END,
            checked_out_at = CASE WHEN %(entry)s THEN checked_out_at ELSE %(scanned_at)s END
        WHERE event_id = %(event)s AND user_id IN (SELECT holder_id FROM t)
          AND status IN ({sources})
        RETURNING id
    ), c AS (
        INSERT INTO {checkin} (id, created_at, updated_at, event_id, ticket_id, scanned_by_id,
                               nonce, presented_hash, direction, result, scanned_at, offline)
        SELECT %(id)s, %(now)s, %(now)s, %(event)s, t.id, %(scanner)s, %(nonce)s, %(hash)s,
               %(direction)s, %(ok)s, %(scanned_at)s, false
        FROM t
        RETURNING id
    )
    SELECT t.code, t.status, u.name, (SELECT count(*) FROM a), (SELECT count(*) FROM c)
    FROM t JOIN {users} u ON u.id = t.holder_id
    """  # noqa: S608 - table names from the models, states from the table, values bound


def _scan_fast(
    *, event: Event, scanner: Any, scan: Scan, claims: secrets.Claims, at: datetime
) -> CheckIn | None:
    """The usual scan in one statement; None when the ticket is not simply valid and on
    the other side of the door (the long way decides and records that answer)."""
    from tessera.core.ids import uuid7

    entry = scan.direction == Direction.ENTRY
    record = CheckIn(
        id=uuid7(),
        event=event,
        ticket_id=claims.ticket_id,
        scanned_by=scanner,
        nonce=scan.nonce,
        presented_hash=_presented(scan),
        direction=scan.direction,
        result=ScanResult.OK,
        scanned_at=scan.scanned_at,
        offline=False,
        created_at=at,
        updated_at=at,
    )
    # Alone it needs no transaction; inside one (a test's, a caller's) a savepoint keeps a
    # refused nonce from spoiling the rest.
    nested = transaction.atomic() if connection.in_atomic_block else nullcontext()
    with nested, connection.cursor() as cursor:
        cursor.execute(
            _scan_statement(),
            {
                "inside": entry,
                "now": at,
                "ticket": claims.ticket_id,
                "event": event.pk,
                "holder": claims.holder_id,
                "valid": sm.VALID,
                "entry": entry,
                "checked_in": sm.ATTENDANCE.transition("check_in").target,
                "scanned_at": scan.scanned_at,
                "issued_by": scan.scanned_at + CLOCK_SKEW,
                "id": record.pk,
                "scanner": getattr(scanner, "pk", None),
                "nonce": scan.nonce,
                "hash": record.presented_hash,
                "direction": scan.direction,
                "ok": ScanResult.OK,
            },
        )
        row = cursor.fetchone()
    if row is None:
        return None
    code, status, holder_name, attendance_moved, _recorded_count = row
    ticket = Ticket(
        id=claims.ticket_id, event=event, holder_id=claims.holder_id, code=code, status=status
    )
    ticket.inside = entry
    ticket.holder = get_user_model()(id=claims.holder_id, name=holder_name)
    record.ticket = ticket
    record._state.adding = False
    if not attendance_moved:  # no row yet (a ticket issued around the services)
        with transaction.atomic():
            attendance_set(event=event, user=ticket.holder, move="check_in", now=scan.scanned_at)
    if entry:
        analytics_capture(
            distinct_id=str(claims.holder_id),
            event=AnalyticsEvent.EVENT_CHECKED_IN,
            properties={"event_id": str(event.pk), "offline": scan.scanned_at < at - CLOCK_SKEW},
        )
    return record


def checkin_scan(*, scanner: Any, event_id: Any, scan: Scan) -> ScanOutcome:
    """One scan, online (the door's hot path). Usually three statements in all: the
    scanner's token, the event with its helper and nonce checks, and `_scan_statement`;
    a replayed nonce, a refusal, a typed code or SQLite take the long way, one transaction
    with the ticket's row locked. The outcome carries the answer; the API refuses with it."""
    at = now()
    scans_checked([scan], at=at, batch=False)
    field = scan_field("scannedAt", None)
    event, seen = _door_for_scan(user=scanner, event_id=event_id, nonce=scan.nonce)
    _before_event(event, scan, field=field)
    if seen:
        existing = _recorded(event, scan.nonce)
        if existing is not None:
            return _replay(existing, _presented(scan))
    claims = _fast_claims(event, scan)
    try:
        if claims is not None:
            fast = _scan_fast(event=event, scanner=scanner, scan=scan, claims=claims, at=at)
            if fast is not None:
                return ScanOutcome(checkin=fast, replayed=False)
        with transaction.atomic():
            checkin = _record(
                event=event, scanner=scanner, scan=scan, offline=False, at=at, field=field
            )
    except IntegrityError:
        # The same nonce arrived twice at once: the first one's record stands, and this
        # statement or transaction (with whatever it changed) rolled back whole.
        existing = _recorded(event, scan.nonce)
        if existing is None:
            raise
        return _replay(existing, _presented(scan))
    return ScanOutcome(checkin=checkin, replayed=False)


def checkins_batch(*, scanner: Any, event_id: Any, scans: Sequence[Scan]) -> list[ScanOutcome]:
    """Scans made offline, applied in the order they were made (scan time, then nonce). An
    answer other than ok is a conflict with what happened meanwhile (another door let the
    ticket in first, an exit with no entry). A nonce reused with another ticket is reported
    as such and changes nothing. A scan dated before its ticket was issued (or the event
    created) refuses the whole batch, named by its place in the list, and records nothing."""
    at = now()
    scans_checked(scans, at=at, batch=True)
    outcomes: list[ScanOutcome] = []
    with transaction.atomic():
        event = door_event(user=scanner, event_id=event_id)
        for index, scan in enumerate(scans):
            _before_event(event, scan, field=scan_field("scannedAt", index))
        for index, scan in sorted(enumerate(scans), key=lambda p: (p[1].scanned_at, p[1].nonce)):
            field = scan_field("scannedAt", index)
            try:
                outcomes.append(
                    _apply(
                        event=event, scanner=scanner, scan=scan, offline=True, at=at, field=field
                    )
                )
            except NonceReusedError:
                outcomes.append(
                    ScanOutcome(
                        checkin=CheckIn(
                            event=event,
                            nonce=scan.nonce,
                            direction=scan.direction,
                            result="nonce_reused",
                            scanned_at=scan.scanned_at,
                            offline=True,
                        ),
                        replayed=False,
                    )
                )
    return outcomes


def checkins_export(*, user: User, event_id: Any) -> dict[str, Any]:
    """The door list, signed (a JWS with the organiser's active key): every ticket that can
    be shown at the door, with its state, and the revoked ones."""
    event = door_event(user=user, event_id=event_id)
    key = organiser_active_key(event.host)
    tickets = list(
        Ticket.objects.filter(event=event)
        .exclude(status=sm.EXPIRED)
        .select_related("holder")
        .order_by("code")
    )
    generated = now()
    document = {
        "eventId": str(event.pk),
        "title": event.title,
        "startsAt": event.starts_at.isoformat(),
        "endsAt": event.ends_at.isoformat(),
        "generatedAt": generated.isoformat(),
        "keyId": key.key_id,
        "tickets": [
            {
                "id": str(t.pk),
                "code": t.code,
                "holder": t.holder.name,
                "status": "valid" if t.status == sm.VALID else "not_paid",
                "inside": t.inside,
            }
            for t in tickets
            if t.status != sm.REVOKED
        ],
        "revoked": [
            {
                "id": str(t.pk),
                "code": t.code,
                "revokedAt": t.revoked_at.isoformat() if t.revoked_at else None,
            }
            for t in tickets
            if t.status == sm.REVOKED
        ],
    }
    signed = jwt.encode(
        {"door": document, "iat": int(generated.timestamp())},
        keys.private_key(key.private_key_encrypted),
        algorithm="EdDSA",
        headers={"kid": key.key_id, "typ": None},
    )
    return {"keyId": key.key_id, "jws": signed, "document": document}
