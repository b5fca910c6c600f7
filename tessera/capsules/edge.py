"""GET /api/capsules at the edge (tessera/core/edge.py, docs/decisions/0012): a box page
kept in the cache (`boxcache`), answered with the token check in one cache read.

Only the plain forms are answered here: `box`, `page`, `pageSize` and `cursor` well formed,
no `state`, a current session entry and a page kept under the user's current box version.
Anything else — another parameter, a value the API would refuse, a page not kept — goes to
the API view in api.py, which answers the same way (tests compare them) and keeps the page.
"""

from __future__ import annotations

from typing import Any

from tessera.accounts.tokens import access_token_cached
from tessera.capsules import boxcache
from tessera.capsules.selectors import page_size_of
from tessera.core.edge import EdgeReply, EdgeRequest, user_reply

PATH = "/api/capsules"
ROUTE = "api/capsules"
_KNOWN = frozenset({"box", "page", "pageSize", "cursor"})
_MAX_PAGE = 1_000_000
_MAX_CURSOR = 200


def _number(text: str | None, *, default: int | None, most: int) -> int | None:
    if text is None:
        return default
    if not (text.isascii() and text.isdigit()) or len(text) > len(str(most)):
        return -1
    value = int(text)
    return value if 1 <= value <= most else -1


def box_page(request: EdgeRequest) -> EdgeReply | None:
    query = request.query
    if request.path != PATH or not boxcache.enabled() or not set(query) <= _KNOWN:
        return None
    box = query.get("box", "inbox")
    page = _number(query.get("page"), default=1, most=_MAX_PAGE)
    asked = _number(query.get("pageSize"), default=None, most=10**9)
    cursor = query.get("cursor")
    if box not in ("inbox", "outbox") or page == -1 or asked == -1:
        return None
    if cursor is not None and (not cursor or len(cursor) > _MAX_CURSOR or page != 1):
        return None
    scheme, _, token = (request.header("Authorization") or "").partition(" ")
    if scheme.lower() != "bearer" or not token:
        return None
    size = page_size_of(asked)
    keys: dict[str, str] = {}

    def page_keys(user_id: Any) -> list[str]:
        keys["page"] = boxcache.page_key(user_id, box=box, page=page or 1, size=size, cursor=cursor)
        return [boxcache.version_key(user_id), keys["page"]]

    found = access_token_cached(token, also=page_keys)
    if found is None:
        return None
    user_id, read = found
    body = boxcache.page_from(read.also, user_id=user_id, key=keys["page"])
    if body is None:
        return None
    return user_reply(body, route=ROUTE, user_id=user_id)
