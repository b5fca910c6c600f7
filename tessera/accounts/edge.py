"""GET /api/auth/me at the edge (tessera/core/edge.py, docs/decisions/0012).

When the token is valid, its session entry current in the authentication cache and the
reply kept there for this host, the edge answers from that one cache read; any other case
(no or malformed token, a session to check in the database, a reply not kept yet, a query
parameter) goes to the API view, which answers the same way or with the error."""

from __future__ import annotations

from tessera.accounts.selectors import me_reply_from_snapshot
from tessera.accounts.tokens import access_token_cached
from tessera.core.edge import EdgeReply, EdgeRequest, user_reply

PATH = "/api/auth/me"
ROUTE = "api/auth/me"


def me(request: EdgeRequest) -> EdgeReply | None:
    if request.path != PATH or request.query:
        return None
    scheme, _, token = (request.header("Authorization") or "").partition(" ")
    if scheme.lower() != "bearer" or not token:
        return None
    found = access_token_cached(token)
    if found is None:
        return None
    user_id, read = found
    body = me_reply_from_snapshot(read.me, host=request.host)
    if body is None:
        return None
    return user_reply(body, route=ROUTE, user_id=user_id)
