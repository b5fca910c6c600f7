"""A page of a box as the API sends it: kept in the cache (`boxcache`) when it can be, and
claiming, on an inbox's first page, the capsules waiting for the reader's verified address
(the one write a read can cause)."""

from __future__ import annotations

from collections.abc import Mapping
from typing import Any

from tessera.accounts.models import User
from tessera.capsules import boxcache, selectors
from tessera.capsules.services.invitations import capsules_claim_pending
from tessera.core.envelope import dumps


def box_page_body(
    *,
    user: User,
    box: str,
    state: str | None,
    page: int,
    page_size: int | None,
    cursor: str | None,
    prefetched: Mapping[str, Any] | None = None,
) -> bytes:
    """The page's JSON (the `data` of the reply). `prefetched`: cache values already read
    for this request (`box_page_cache_keys`, by the authentication)."""
    size = selectors.page_size_of(page_size)

    def build(*, check_pending_claims: bool) -> selectors.CapsulePage:
        return selectors.capsule_page(
            user=user,
            box=box,
            state=state,
            page=page,
            page_size=size,
            cursor=cursor,
            check_pending_claims=check_pending_claims,
        )

    # A list by state is never kept (which capsules match changes with the clock).
    keep = boxcache.enabled() and state is None
    key = boxcache.page_key(user.pk, box=box, page=page, size=size, cursor=cursor)
    kept, version = (
        boxcache.page_lookup(user.pk, key, prefetched=prefetched) if keep else (None, None)
    )
    if kept is not None:
        return kept
    # Capsules waiting for this person's verified address join the inbox on its first page
    # (a cursor page follows one, so it need not look again). The page's own query tells
    # whether any wait, so the common case stays one statement.
    found = build(check_pending_claims=box == "inbox" and not cursor)
    if found.pending_claims:
        capsules_claim_pending(user=user)
        found = build(check_pending_claims=False)
        version = None  # the claim retires this version once it commits
    body = dumps(found.as_api())
    if version is not None:
        boxcache.page_keep(key=key, version=version, body=body, changes_at=found.changes_at)
    return body


def box_page_cache_keys(*, query: Mapping[str, str], user_id: str) -> list[str]:
    """The cache keys `box_page_body` would read for this raw query string's page, for the
    authentication to read with the session (a guess: a key the page does not use is a
    miss, never a wrong page)."""
    raw_size = query.get("pageSize") or query.get("page_size")
    try:
        size = selectors.page_size_of(int(raw_size) if raw_size else None)
    except ValueError:
        return []
    return boxcache.prefetch_keys(query, user_id, size=size)
