"""The cached website document: ready-to-send bytes per variant and per section.

Keys (in Django's default cache, Redis in production):

- `content:doc:<variant>` — the whole document (`variant` is `all`, `en` or `ar`), TTL
  `CONTENT_CACHE_TTL_SECONDS` (1 h);
- `content:sec:<section>:<variant>` — one section, TTL `CONTENT_SECTION_CACHE_TTL_SECONDS`
  (30 min);

each holding `(etag, built_at, json_bytes)`. A TTL never runs past the next scheduled
publish/unpublish time, so a schedule boundary rebuilds the document on the next read.
Every committed change rebuilds everything (`document_rebuild`, from `signals.py`).
A cold cache is rebuilt by one process at a time: the first to `add()` the lock builds,
the others wait for the result (`_entries_or_rebuild`). When the cache server cannot be
reached (a Redis connection error or timeout, and nothing else), the document is built from
the database and served, and each process keeps what it built for
`CONTENT_OUTAGE_COPY_SECONDS` (5 s) so that an outage does not cost every request a rebuild;
the outage is logged once per interval (`tessera/core/outages.py`), not per request. Any
other error is not an outage: it propagates.
With a Redis cache, each process also keeps the entries it has read, dropped as soon as Redis
reports a change (`tessera/core/nearcache.py`), so a warm read makes no round trip.
"""

from __future__ import annotations

import contextlib
import hashlib
import time
from dataclasses import dataclass
from functools import lru_cache
from typing import Any

import orjson
import structlog
from django.conf import settings
from django.core.cache import cache
from django.core.signals import setting_changed
from django.dispatch import receiver
from django.utils import timezone
from django.utils.http import http_date

from tessera.content.selectors import SECTIONS, VARIANTS, document_build
from tessera.core.envelope import JSON_CONTENT_TYPE, success_body_around
from tessera.core.hot_settings import hot_setting
from tessera.core.nearcache import NearCache, near_cache
from tessera.core.outages import CACHE_CONNECTION_ERRORS, outage_report

logger = structlog.get_logger(__name__)

LOCK_KEY = "content:rebuild-lock"
LOCK_TIMEOUT_SECONDS = 30
_POLL_SECONDS = 0.02

Entry = tuple[str, float, bytes]


def doc_key(variant: str) -> str:
    return f"content:doc:{variant}"


def section_key(section: str, variant: str) -> str:
    return f"content:sec:{section}:{variant}"


def _near() -> NearCache | None:
    """The process-local copy of the `content:` keys, when the cache is Redis and it is on."""
    return near_cache("content:") if hot_setting("CONTENT_NEAR_CACHE") else None


def _forget(keys: list[str]) -> None:
    near = _near()
    if near is not None:
        near.forget(keys)


def _etag(body: bytes) -> str:
    return hashlib.blake2b(body, digest_size=12).hexdigest()


@dataclass(frozen=True)
class Built:
    entries: dict[str, Entry]
    doc_ttl: int
    section_ttl: int


def _build() -> Built:
    now = timezone.now()
    document = document_build(now=now)
    built_at = time.time()
    entries: dict[str, Entry] = {}
    for variant, sections in document.variants.items():
        body = orjson.dumps(sections)
        entries[doc_key(variant)] = (_etag(body), built_at, body)
        for name in SECTIONS:
            part = orjson.dumps(sections[name])
            entries[section_key(name, variant)] = (_etag(part), built_at, part)
    doc_ttl = settings.CONTENT_CACHE_TTL_SECONDS
    section_ttl = settings.CONTENT_SECTION_CACHE_TTL_SECONDS
    if document.next_boundary is not None:
        until = max(1, int((document.next_boundary - now).total_seconds()) + 1)
        doc_ttl, section_ttl = min(doc_ttl, until), min(section_ttl, until)
    return Built(entries=entries, doc_ttl=doc_ttl, section_ttl=section_ttl)


def _store(built: Built) -> None:
    docs = {k: v for k, v in built.entries.items() if k.startswith("content:doc:")}
    parts = {k: v for k, v in built.entries.items() if not k.startswith("content:doc:")}
    try:
        cache.set_many(parts, timeout=built.section_ttl)
        # The whole documents last, so a reader that finds one finds its sections too.
        cache.set_many(docs, timeout=built.doc_ttl)
    finally:
        _forget(list(built.entries))


@dataclass(frozen=True)
class RebuildResult:
    version: str
    size_bytes: int
    sizes: dict[str, int]
    built_at: float


def document_rebuild() -> RebuildResult:
    """Build every variant from the database and store it. Raises one of
    `CACHE_CONNECTION_ERRORS` when the cache is down."""
    built = _build()
    _store(built)
    logger.info("content.document_rebuilt", version=built.entries[doc_key("all")][0])
    return _result(built)


def _result(built: Built) -> RebuildResult:
    etag, built_at, body = built.entries[doc_key("all")]
    sizes = {v: len(built.entries[doc_key(v)][2]) for v in VARIANTS}
    return RebuildResult(version=etag, size_bytes=len(body), sizes=sizes, built_at=built_at)


def document_rebuild_quietly() -> None:
    """After a commit: rebuild, and never let a cache outage fail the admin's save."""
    _outage_copy.clear()  # this process's next read during an outage sees the change
    try:
        document_rebuild()
    except CACHE_CONNECTION_ERRORS as exc:  # the cache being down must not fail the write
        outage_report("cache", exc, event="content.cache_unavailable")
        # If even the delete fails, the TTL bounds how stale the cached document gets.
        with contextlib.suppress(*CACHE_CONNECTION_ERRORS):
            cache.delete_many([doc_key(v) for v in VARIANTS])
        _forget([doc_key(v) for v in VARIANTS])
    except Exception:
        # Not an outage: a bug or a database error, logged as the error it is (with its
        # traceback, and to Sentry). The write itself is committed; raising here would turn
        # it into a 500 for a change that was saved.
        logger.exception("content.rebuild_failed")
        _forget([doc_key(v) for v in VARIANTS])


# What this process built while the cache was unreachable, and when: (monotonic time, Built).
_outage_copy: list[tuple[float, Built]] = []


def _built_during_outage() -> Built:
    """The document while the cache is down: built at most once per
    `CONTENT_OUTAGE_COPY_SECONDS` by this process (0 builds it every time)."""
    now = time.monotonic()
    if _outage_copy:
        built_at, built = _outage_copy[0]
        if now - built_at < settings.CONTENT_OUTAGE_COPY_SECONDS:
            return built
    built = _build()
    _outage_copy[:] = [(now, built)]
    return built


@receiver(setting_changed)
def _outage_copy_forget(*, setting: str, **_kwargs: Any) -> None:
    if setting in {"CACHES", "CONTENT_OUTAGE_COPY_SECONDS"}:
        _outage_copy.clear()


def _entries_or_rebuild(keys: list[str]) -> dict[str, Entry]:
    near = _near()
    found: dict[str, Any] = near.get_many(keys) if near is not None else cache.get_many(keys)
    if len(found) == len(keys):
        return found
    deadline = time.monotonic() + settings.CONTENT_REBUILD_WAIT_SECONDS
    while True:
        if cache.add(LOCK_KEY, "1", timeout=LOCK_TIMEOUT_SECONDS):
            try:
                # Another process may have stored the document and let the lock go between
                # our last look and taking it (a real race on Redis): look once more.
                found = cache.get_many(keys)
                if len(found) == len(keys):
                    return found
                built = _build()
                _store(built)
            finally:
                cache.delete(LOCK_KEY)
            return {k: built.entries[k] for k in keys}
        # Someone else is building: wait for their result rather than hit the database too.
        time.sleep(_POLL_SECONDS)
        found = cache.get_many(keys)
        if len(found) == len(keys):
            return found
        if time.monotonic() > deadline:
            logger.warning("content.rebuild_wait_timeout")
            built = _build()
            return {k: built.entries[k] for k in keys}


def cached_entries(keys: list[str]) -> dict[str, Entry]:
    """The entries for `keys`, from the cache, rebuilding once when cold; from the database
    when the cache is unreachable."""
    if not settings.CONTENT_CACHE_ENABLED:
        built = _build()
        return {k: built.entries[k] for k in keys}
    try:
        return _entries_or_rebuild(keys)
    except CACHE_CONNECTION_ERRORS as exc:  # the cache server is down: serve from the database
        outage_report("cache", exc, event="content.cache_unavailable")
        built = _built_during_outage()
        return {k: built.entries[k] for k in keys}


def cached_entry_if_warm(key: str) -> Entry | None:
    """The entry for `key` if the cache holds it; None when cold or unreachable (the caller
    then takes the full path, which rebuilds once and reports the outage)."""
    if not hot_setting("CONTENT_CACHE_ENABLED"):
        return None
    try:
        near = _near()
        entry = near.get(key) if near is not None else cache.get(key)
    except CACHE_CONNECTION_ERRORS:  # answered by the full path, which reports it
        return None
    return entry if isinstance(entry, tuple) else None


def etag_matches(if_none_match: str | None, etag: str) -> bool:
    if not if_none_match:
        return False
    if if_none_match.strip() == "*":
        return True
    tags = {t.strip().removeprefix("W/").strip('"') for t in if_none_match.split(",")}
    return etag in tags


@dataclass(slots=True)  # not frozen: a frozen dataclass costs twice as much to make
class DocumentReply:
    """A reply for a cached entry, for both paths that serve it (api.py, edge.py)."""

    status: int
    body: bytes
    headers: list[tuple[str, str]]


@lru_cache(maxsize=64)
def _validators(etag: str, built_at: float) -> tuple[tuple[str, str], ...]:
    """The headers every reply of one cached entry carries, 200 or 304."""
    return (
        ("ETag", f'W/"{etag}"'),
        ("Last-Modified", http_date(built_at)),
        ("Cache-Control", _cache_control()),
    )


@lru_cache(maxsize=1)
def _cache_control() -> str:
    """Browsers revalidate every time (ETag, 304). With CONTENT_SHARED_CACHE_SECONDS set, a
    shared cache in front (the Nginx of deploy/) may keep the document that long and serve it
    stale for CONTENT_STALE_WHILE_REVALIDATE_SECONDS more while it revalidates."""
    shared = settings.CONTENT_SHARED_CACHE_SECONDS
    if shared <= 0:
        return "public, max-age=0, must-revalidate"
    stale = settings.CONTENT_STALE_WHILE_REVALIDATE_SECONDS
    return f"public, max-age=0, s-maxage={shared}, stale-while-revalidate={stale}"


def document_reply(
    *, etag: str, built_at: float, data: bytes, if_none_match: str | None
) -> DocumentReply:
    validators = _validators(etag, built_at)
    if etag_matches(if_none_match, etag):
        return DocumentReply(status=304, body=b"", headers=list(validators))
    return DocumentReply(
        status=200,
        body=success_body_around(data),
        headers=[("Content-Type", JSON_CONTENT_TYPE), *validators],
    )


def combined_etag(etags: list[str]) -> str:
    return _etag(",".join(etags).encode())


def item_move(*, item: Any, direction: str) -> None:
    """Move `item` one place up or down, or to the top or bottom, among its siblings
    (same model, same parent or home page), renumbering them 0, 10, 20… in one transaction.
    Each row is saved (not bulk-updated) so that history records the change."""
    from django.db import transaction

    model = type(item)
    with transaction.atomic():
        siblings = model.objects.select_for_update().order_by("order", "created_at")
        for scope in ("parent_id", "home_page_id"):
            if hasattr(item, scope):
                siblings = siblings.filter(**{scope: getattr(item, scope)})
        rows = list(siblings)
        index = next(i for i, row in enumerate(rows) if row.pk == item.pk)
        row = rows.pop(index)
        target = {
            "up": max(0, index - 1),
            "down": min(len(rows), index + 1),
            "top": 0,
            "bottom": len(rows),
        }[direction]
        rows.insert(target, row)
        for position, sibling in enumerate(rows):
            if sibling.order != position * 10:
                sibling.order = position * 10
                sibling.save(update_fields=["order", "updated_at"])


def next_order(*, model: Any) -> int:
    """The `order` that puts a new item last."""
    from django.db.models import Max

    highest = model.objects.aggregate(highest=Max("order"))["highest"]
    return 0 if highest is None else highest + 10
