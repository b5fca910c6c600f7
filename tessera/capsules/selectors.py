"""Reads of the capsules module, with the visibility rules applied."""

from __future__ import annotations

import uuid
from base64 import urlsafe_b64decode, urlsafe_b64encode
from dataclasses import dataclass
from datetime import UTC, datetime, timedelta
from functools import lru_cache
from typing import Any

import orjson
from django.conf import settings
from django.db import connections, router
from django.db.models import Count, F, Q, QuerySet
from django.utils import timezone
from django.utils.translation import gettext as _
from pydantic.alias_generators import to_camel

from tessera.accounts.models import User
from tessera.capsules import statemachine
from tessera.capsules.models import Capsule, CapsuleEvent, CapsuleState, Draft, Recipient
from tessera.core import statements
from tessera.core.context import ClientContext
from tessera.core.envelope import dumps
from tessera.core.errors import InvalidCursorError, InvalidInputError, NotFoundError
from tessera.core.metrics import Backlog
from tessera.core.pagination import cursor_sign, cursor_unsign
from tessera.files.selectors import file_ref


def _state_q(state: str, now: datetime) -> Q:
    """Filter by the state readers see (a due capsule is READY before the sweep runs)."""
    return statemachine.q_effective(state, now)


_CAPSULE_FIELDS = tuple(field.name for field in Capsule._meta.concrete_fields)


def _box(*, user: User, box: str, state: str | None, now: datetime) -> QuerySet[Capsule]:
    """The capsules of `user`'s inbox or outbox, filtered by the reader's state; unordered."""
    if box == "inbox":
        capsules = Capsule.objects.filter(receiver=user).exclude(state=CapsuleState.DRAFT)
    else:
        capsules = Capsule.objects.filter(sender=user)
    if state:
        capsules = capsules.filter(_state_q(state, now))
    return capsules


def capsule_list(*, user: User, box: str, state: str | None = None) -> QuerySet[Capsule]:
    capsules = _box(user=user, box=box, state=state, now=timezone.now())
    # Of the two people only id and name are shown: loading every user column (password
    # hash, a dozen timestamps) was most of a list page's database-to-Python cost.
    return (
        capsules.select_related("sender", "receiver")
        .only(*_CAPSULE_FIELDS, "sender__id", "sender__name", "receiver__id", "receiver__name")
        .order_by("-created_at", "-id")
    )


def verified_addresses(user: User) -> tuple[str, str]:
    """`user`'s email and phone number, each only once proven (email by its code, phone by
    its OTP), else ""."""
    email = (getattr(user, "email", None) or "").lower()
    phone = getattr(user, "phone_number", None) or ""
    return (
        email if email and getattr(user, "email_verified_at", None) else "",
        phone if phone and getattr(user, "phone_verified_at", None) else "",
    )


def _pending_q(*, email: str, phone: str) -> Q:
    match = Q(pk__in=[])
    if email:
        match |= Q(receiver_email=email)
    if phone:
        match |= Q(receiver_phone=phone)
    return match & Q(receiver__isnull=True)


def pending_claims(*, user: User) -> QuerySet[Capsule]:
    """Capsules sent to `user`'s verified email or phone before they had an account."""
    email, phone = verified_addresses(user)
    if not email and not phone:
        return Capsule.objects.none()
    return Capsule.objects.filter(_pending_q(email=email, phone=phone))


def capsule_get_for_viewer(*, user: User, capsule_id: Any) -> Capsule:
    """The sender sees their capsule in any state; the receiver once sealed; others 404."""
    capsule = Capsule.objects.select_related("sender", "receiver").filter(pk=capsule_id).first()
    if capsule is None:
        raise NotFoundError
    if capsule.sender_id == user.pk:
        return capsule
    if capsule.receiver_id == user.pk and capsule.state != CapsuleState.DRAFT:
        return capsule
    raise NotFoundError


def content_visible(capsule: Capsule, *, viewer: Any, now: datetime) -> bool:
    if capsule.sender_id == getattr(viewer, "pk", None):
        return True
    state = capsule.effective_state(now)
    if state in (CapsuleState.READY, CapsuleState.OPENED):
        return True
    return state == CapsuleState.UNFOLDING and capsule.allow_early_view


def _person(user: User | None) -> dict[str, Any] | None:
    if user is None:
        return None
    return {"id": user.pk, "name": user.name}


def capsule_view(
    capsule: Capsule,
    *,
    viewer: Any,
    client: ClientContext | None = None,
    with_media: bool = True,
) -> dict[str, Any]:
    """One capsule as `viewer` may see it: body, media and reply only when allowed."""
    now = timezone.now()
    visible = content_visible(capsule, viewer=viewer, now=now)
    is_sender = capsule.sender_id == getattr(viewer, "pk", None)
    media: list[Any] | None = None
    if visible and with_media:
        media = [
            file_ref(item.file, viewer=viewer, client=client, grant_private=True)
            for item in capsule.media.select_related("file").all()
            if item.file is not None
        ]
    return {
        "id": capsule.pk,
        "title": capsule.title,
        "theme": capsule.theme,
        "state": capsule.effective_state(now),
        "sender": _person(capsule.sender),
        "receiver": _person(capsule.receiver),
        "receiver_email": capsule.receiver_email if is_sender else None,
        "receiver_phone": capsule.receiver_phone if is_sender else None,
        "allow_early_view": capsule.allow_early_view,
        "allow_receiver_reply": capsule.allow_receiver_reply,
        "body": capsule.body if visible else None,
        "media": media,
        "reply": capsule.reply_body if capsule.replied_at and (visible or is_sender) else None,
        "replied_at": capsule.replied_at,
        "sealed_at": capsule.sealed_at,
        "scheduled_unlock_at": capsule.scheduled_unlock_at,
        "opened_at": capsule.opened_at,
        "created_at": capsule.created_at,
        "updated_at": capsule.updated_at,
    }


def events_pending() -> bool:
    """Whether any move of the sweep still waits for its receiver to be notified."""
    return CapsuleEvent.objects.filter(notified_at__isnull=True).exists()


def event_backlog() -> Backlog:
    """Moves the sweep made whose receivers are not notified yet, and when the oldest was
    made: reads of `capsule_event_pending_idx` only (ids grow with time, so the first is
    the oldest)."""
    pending = CapsuleEvent.objects.filter(notified_at__isnull=True)
    oldest = pending.order_by("id").values_list("created_at", flat=True).first()
    return Backlog(
        queue="capsule_events",
        items=pending.count() if oldest is not None else 0,
        oldest_at=oldest,
    )


def capsule_state_counts() -> dict[str, int]:
    rows = Capsule.objects.values("state").annotate(n=Count("id")).order_by()
    counts = dict.fromkeys(CapsuleState.values, 0)
    counts.update({row["state"]: row["n"] for row in rows})
    return counts


def draft_list(*, owner: Any) -> QuerySet[Draft]:
    return Draft.objects.filter(owner=owner).order_by("-updated_at", "-id")


def draft_get(*, owner: Any, draft_id: Any) -> Draft:
    draft = Draft.objects.filter(owner=owner, pk=draft_id).first()
    if draft is None:
        raise NotFoundError
    return draft


def recipient_list(*, owner: Any) -> QuerySet[Recipient]:
    return Recipient.objects.filter(owner=owner).order_by("name", "id")


def recipient_get(*, owner: Any, recipient_id: Any) -> Recipient:
    recipient = Recipient.objects.filter(owner=owner, pk=recipient_id).first()
    if recipient is None:
        raise NotFoundError
    return recipient


# A box's `count` is exact up to this many capsules; past it the page says `countExact:
# false` and counts this many, so no page ever counts a 100,000-capsule inbox row by row.
COUNT_CAP = 1000


_CURSOR_SALT = "tessera.capsules.box-cursor"
_EPOCH = datetime(1970, 1, 1, tzinfo=UTC)
_MICROSECOND = timedelta(microseconds=1)


def _cursor_encode(created_at: datetime, capsule_id: Any) -> str:
    """A box position, compact and signed: the creation time in microseconds and the id
    (24 bytes, 32 characters of URL-safe base64), then the signature."""
    micros = (created_at - _EPOCH) // _MICROSECOND
    raw = micros.to_bytes(8, "big", signed=True) + uuid.UUID(str(capsule_id)).bytes
    return cursor_sign(urlsafe_b64encode(raw).decode().rstrip("="), salt=_CURSOR_SALT)


def _cursor_decode(cursor: str) -> tuple[datetime, uuid.UUID]:
    value = cursor_unsign(cursor, salt=_CURSOR_SALT)
    try:
        raw = urlsafe_b64decode(value + "=" * (-len(value) % 4))
        if len(raw) != 24:  # 8 bytes of time, 16 of id
            raise ValueError(value)  # noqa: TRY301 - one refusal for every malformed cursor
        created_at = _EPOCH + int.from_bytes(raw[:8], "big", signed=True) * _MICROSECOND
        return created_at, uuid.UUID(bytes=raw[8:])
    except (ValueError, OverflowError):
        raise InvalidCursorError from None


def cursor_for(capsule: Capsule) -> str:
    """The cursor of the page that follows `capsule` in its box."""
    return _cursor_encode(capsule.created_at, capsule.pk)


def _iso(column: str) -> str:
    """SQL for `column` (timestamptz) as the API writes every time: RFC 3339 in UTC with a
    `Z`, six digits of microseconds when there are any, none otherwise (what orjson writes
    for a datetime). From the ISO text cast, which PostgreSQL writes without trailing zeros
    in the fraction, padded back: a third of the cost of `to_char`."""
    return (
        f"rpad(replace(({column} AT TIME ZONE 'UTC')::text, ' ', 'T'), "
        f"CASE WHEN date_trunc('second', {column}) = {column} THEN 19 ELSE 26 END, '0') || 'Z'"
    )


# One list item as `capsule_view(..., with_media=False)` shapes it, in the API's camelCase,
# built by PostgreSQL: the reader's state (a due capsule reads READY before the sweep moves
# it), and body and reply only where `content_visible` allows them. A test compares every
# item with the capsule's own route.
_EFFECTIVE_STATE = statemachine.sql_effective_state(alias="r.", now="%(now)s")
_VISIBLE = """(
    s.is_sender OR s.effective_state IN ('ready', 'opened')
    OR (s.effective_state = 'unfolding' AND s.allow_early_view))"""
_ITEM = f"""json_build_object(
    'id', s.id,
    'title', s.title,
    'theme', s.theme,
    'state', s.effective_state,
    'sender', json_build_object('id', s.sender_id, 'name', s.sender_name),
    'receiver', CASE WHEN s.receiver_id IS NULL THEN NULL
                     ELSE json_build_object('id', s.receiver_id, 'name', s.receiver_name) END,
    'receiverEmail', CASE WHEN s.is_sender THEN s.receiver_email END,
    'receiverPhone', CASE WHEN s.is_sender THEN s.receiver_phone END,
    'allowEarlyView', s.allow_early_view,
    'allowReceiverReply', s.allow_receiver_reply,
    'body', CASE WHEN {_VISIBLE} THEN s.body END,
    'media', NULL,
    'reply', CASE WHEN s.replied_at IS NOT NULL AND (s.is_sender OR {_VISIBLE})
                  THEN s.reply_body END,
    'repliedAt', {_iso("s.replied_at")},
    'sealedAt', {_iso("s.sealed_at")},
    'scheduledUnlockAt', {_iso("s.scheduled_unlock_at")},
    'openedAt', {_iso("s.opened_at")},
    'createdAt', {_iso("s.created_at")},
    'updatedAt', {_iso("s.updated_at")})"""

# When an item's state, as its readers see it, next changes by the clock alone.
_CHANGES_AT = statemachine.sql_changes_at(alias="s.", now="%(now)s")

_PAGE_COLUMNS = (
    "id",
    "title",
    "theme",
    "state",
    "sender_id",
    "receiver_id",
    "receiver_email",
    "receiver_phone",
    "allow_early_view",
    "allow_receiver_reply",
    "body",
    "reply_body",
    "replied_at",
    "sealed_at",
    "scheduled_unlock_at",
    "unfolds_at",
    "opened_at",
    "created_at",
    "updated_at",
)


@dataclass(frozen=True)
class CapsulePage:
    """One page of a box: `items` is the JSON array as the API sends it."""

    items: bytes
    size: int
    count: int
    count_exact: bool
    page: int | None
    page_size: int
    next_cursor: str | None
    # Capsules wait for the reader's verified address (see `pending_claims`): the caller
    # claims them and asks again.
    pending_claims: bool
    # When a capsule on the page next changes state by the clock alone (None: never).
    changes_at: datetime | None

    def as_api(self) -> dict[str, Any]:
        return {
            "items": orjson.Fragment(self.items),
            "count": self.count,
            "countExact": self.count_exact,
            "page": self.page,
            "pageSize": self.page_size,
            "pages": max(1, -(-self.count // self.page_size)),
            "nextCursor": self.next_cursor,
        }


# Stand-ins for the values that differ between requests. A page statement is compiled from
# the ORM once per shape with these in place, and each becomes a named parameter: the filters
# stay written once (`_box`, `_state_q`, `_pending_q`) and no request pays for compiling them.
_STAND_INS: dict[str, Any] = {
    "user": uuid.UUID(int=0x7E55E7A1),
    "now": datetime(1, 1, 1, 0, 0, 1, tzinfo=UTC),
    "after_time": datetime(1, 1, 1, 0, 0, 2, tzinfo=UTC),
    "after_id": uuid.UUID(int=0x7E55E7A2),
    "email": "\x00email",
    "phone": "\x00phone",
}


def page_size_of(asked: int | None) -> int:
    """The page size a list uses when `asked` for one (or not)."""
    return min(asked or settings.API_PAGE_SIZE_DEFAULT, settings.API_PAGE_SIZE_MAX)


def _named(queryset: QuerySet[Any]) -> str:
    """The SQL of `queryset` with `%(<stand-in>)s` where a stand-in was compiled and the
    constants (state names) written in (`core.statements.named_sql`). Written in, not bound:
    the planner proves a partial index's predicate (`NOT (state = 'draft')`) only from a
    literal, and a prepared statement's generic plan knows nothing else."""
    named = statements.named_sql(queryset, _STAND_INS)
    # The table by a one-letter alias: shorter, so psycopg caches the statement's conversion.
    table = f'"{Capsule._meta.db_table}"'
    short = named.replace(f"{table}.", "c.")
    return short.replace(f"FROM {table} ", f"FROM {table} c ", 1)


@lru_cache(maxsize=256)
def _page_statement(
    *, box: str, state: str | None, after: bool, email: bool, phone: bool, size: int, offset: int
) -> str:
    """The one statement of a page of this shape (`after`: by cursor; `email`/`phone`: also
    look for capsules waiting for that verified address)."""
    at = _STAND_INS
    capsules = _box(user=at["user"], box=box, state=state, now=at["now"])
    window = capsules.filter(_after_q(at["after_time"], at["after_id"])) if after else capsules
    rows = window.order_by("-created_at", "-id").values(
        *_PAGE_COLUMNS, sender_name=F("sender__name"), receiver_name=F("receiver__name")
    )
    rows_sql = _named(rows)
    counted_sql = _named(capsules.order_by().values("pk"))
    pending_sql = "false"
    if email or phone:
        pending = _pending_q(email=at["email"] if email else "", phone=at["phone"] if phone else "")
        pending_sql = f"EXISTS ({_named(Capsule.objects.filter(pending).values('pk'))})"
    # Only SQL written here or compiled by Django is interpolated; every value is a parameter.
    # Spaces collapsed: psycopg caches the conversion of statements under 4 kB.
    sql = f"""
        WITH r AS ({rows_sql} LIMIT {size + 1:d} OFFSET {offset:d}),
        s AS (
            SELECT r.*, {_EFFECTIVE_STATE} AS effective_state,
                   r.sender_id = %(user)s AS is_sender,
                   row_number() OVER (ORDER BY r.created_at DESC, r.id DESC) AS n
            FROM r
        )
        SELECT
            coalesce(json_agg({_ITEM} ORDER BY s.n) FILTER (WHERE s.n <= {size:d}), '[]')::text,
            count(*),
            max(s.created_at) FILTER (WHERE s.n = {size:d}),
            max(s.id::text) FILTER (WHERE s.n = {size:d}),
            CASE WHEN {after} OR count(*) > {size:d} OR (count(*) = 0 AND {offset:d} > 0)
                 THEN (SELECT count(*) FROM ({counted_sql} LIMIT {COUNT_CAP + 1}) k) END,
            {pending_sql},
            min({_CHANGES_AT}) FILTER (WHERE s.n <= {size:d})
        FROM s"""  # noqa: S608
    return " ".join(sql.split())


@lru_cache(maxsize=1)
def _prepared_cursor_class() -> type:
    from django.db.backends.postgresql.base import ServerBindingCursor

    class PreparedCursor(ServerBindingCursor):
        """Binds parameters on the server and prepares the statement on its connection."""

        def execute(self, query: Any, params: Any = None, **kwargs: Any) -> Any:
            return super().execute(query, params, prepare=True)  # type: ignore[misc]

    return PreparedCursor


def _reading_connection() -> Any:
    """The connection the router picks for reading capsules (a replica, when configured and
    the reader has not just written: tessera/core/dbrouter.py)."""
    return connections[router.db_for_read(Capsule)]


def _fetch_prepared(sql: str, params: dict[str, Any]) -> tuple[Any, ...]:
    """One row of `sql`, run as a prepared statement. The page statement is long: parsing
    and planning it took twice as long as running it, and a prepared statement does both
    once per pooled connection (psycopg keeps its 100 latest per connection). Logged like
    any query (Django's cursor wrapper)."""
    connection = _reading_connection()
    connection.ensure_connection()
    raw = _prepared_cursor_class()(connection.connection)
    if not connection.queries_logged:
        with connection.make_cursor(raw) as cursor:
            cursor.execute(sql, params)
            return tuple(cursor.fetchone())
    # Django logs a query's text from psycopg, which has none for a prepared statement.
    with connection.make_debug_cursor(raw) as cursor, cursor.debug_sql(sql, params):
        raw.execute(sql, params)
        return tuple(raw.fetchone())


def _fetch_once(sql: str, params: dict[str, Any]) -> tuple[Any, ...]:
    with _reading_connection().cursor() as cursor:
        cursor.execute(sql, params)
        return tuple(cursor.fetchone())


def _after_q(created_at: datetime, capsule_id: Any) -> Q:
    """The capsules after a cursor's position in a box's order (newest first)."""
    # `created_at <= x` bounds the index range scan; the OR only settles ties.
    return Q(created_at__lte=created_at) & (Q(created_at__lt=created_at) | Q(id__lt=capsule_id))


def capsule_page(
    *,
    user: User,
    box: str,
    state: str | None,
    page: int,
    page_size: int | None,
    cursor: str | None = None,
    check_pending_claims: bool = False,
) -> CapsulePage:
    """One page of the inbox or outbox, each capsule shaped for `user` (no media in lists).

    By page number (`page`, an OFFSET) or, for deep pages, by `cursor` (the `nextCursor` of
    the previous page: a keyset position on the box's index, as cheap at the 5,000th page as
    at the first). `count` is exact up to COUNT_CAP capsules, and counted only when the page
    does not already tell it.

    On PostgreSQL the page is one prepared statement that also builds the items' JSON:
    loading 21 model instances (Django parses each timestamptz in Python) and serialising
    them was three quarters of the request's CPU. Elsewhere (SQLite, the embedded default)
    the same page is built from models; a test compares the two with the capsule's route."""
    size = page_size_of(page_size)
    if cursor and page != 1:
        raise InvalidInputError(
            _("Give either page or cursor, not both."),
            fields={"cursor": _("Not allowed together with page.")},
        )
    after = _cursor_decode(cursor) if cursor else None
    offset = 0 if cursor else (page - 1) * size
    email, phone = verified_addresses(user) if check_pending_claims else ("", "")
    if _reading_connection().vendor != "postgresql":
        return _capsule_page_in_python(
            user=user,
            box=box,
            state=state,
            after=after,
            page=None if cursor else page,
            size=size,
            offset=offset,
            check_pending_claims=bool(email or phone),
        )
    statement = _page_statement(
        box=box,
        state=state,
        after=after is not None,
        email=bool(email),
        phone=bool(phone),
        size=size,
        offset=offset,
    )
    params = {
        "user": user.pk,
        "now": timezone.now(),
    }
    if after is not None:
        params["after_time"], params["after_id"] = after
    if email:
        params["email"] = email
    if phone:
        params["phone"] = phone
    # Only first pages and cursor pages, the ones read again and again, are prepared: a page
    # by number has its own statement (OFFSET is written in), most of them read once.
    fetch = _fetch_prepared if offset == 0 else _fetch_once
    items, fetched, last_created, last_id, counted, has_pending, changes_at = fetch(
        statement, params
    )
    has_more = fetched > size
    if counted is None:  # the last page (or the only one): the count is known
        count, exact = offset + min(fetched, size), True
    else:
        count, exact = min(counted, COUNT_CAP), counted <= COUNT_CAP
    return CapsulePage(
        items=items.encode(),
        size=min(fetched, size),
        count=count,
        count_exact=exact,
        page=None if cursor else page,
        page_size=size,
        next_cursor=_cursor_encode(last_created, last_id) if has_more else None,
        pending_claims=bool(has_pending),
        changes_at=changes_at,
    )


def _capsule_page_in_python(
    *,
    user: User,
    box: str,
    state: str | None,
    after: tuple[datetime, uuid.UUID] | None,
    page: int | None,
    size: int,
    offset: int,
    check_pending_claims: bool,
) -> CapsulePage:
    """`capsule_page` on a database without PostgreSQL's JSON functions (SQLite, the
    embedded default): the same page from model instances and `capsule_view`."""
    capsules = _box(user=user, box=box, state=state, now=timezone.now())
    window = capsules.filter(_after_q(*after)) if after else capsules
    ordered = window.select_related("sender", "receiver").order_by("-created_at", "-id")
    rows = list(ordered[offset : offset + size + 1])
    has_more = len(rows) > size
    rows = rows[:size]
    if page is not None and not has_more and (rows or offset == 0):
        count, exact = offset + len(rows), True
    else:
        counted = capsules.order_by().values("pk")[: COUNT_CAP + 1].count()
        count, exact = min(counted, COUNT_CAP), counted <= COUNT_CAP
    views = [capsule_view(c, viewer=user, with_media=False) for c in rows]
    items = [{to_camel(key): value for key, value in view.items()} for view in views]
    return CapsulePage(
        items=dumps(items),
        size=len(rows),
        count=count,
        count_exact=exact,
        page=page,
        page_size=size,
        next_cursor=cursor_for(rows[-1]) if has_more else None,
        pending_claims=check_pending_claims and pending_claims(user=user).exists(),
        changes_at=min((c for c in map(_state_changes_at, rows) if c), default=None),
    )


def _state_changes_at(capsule: Capsule) -> datetime | None:
    """`_CHANGES_AT` for a model instance."""
    return statemachine.changes_at(str(capsule.state), capsule.clock_times(), timezone.now())
