"""The client's address, taking only a configured number of trusted proxy hops into account."""

from __future__ import annotations

from collections.abc import Mapping
from typing import Any

from django.http import HttpRequest

from tessera.core.hot_settings import hot_setting


def client_ip(request: HttpRequest) -> str:
    cached = getattr(request, "_tessera_client_ip", None)
    if cached is not None:
        return str(cached)
    address = client_ip_from_meta(request.META)
    request._tessera_client_ip = address  # type: ignore[attr-defined]
    return address


def client_ip_from_meta(meta: Mapping[str, Any]) -> str:
    """The same, from a WSGI environ (the edge answers before there is a request object)."""
    remote_addr = meta.get("REMOTE_ADDR", "") or "unknown"
    hops = hot_setting("TRUSTED_PROXY_HOPS")
    if hops <= 0:
        return str(remote_addr)
    forwarded = meta.get("HTTP_X_FORWARDED_FOR", "")
    chain = [part.strip() for part in forwarded.split(",") if part.strip()]
    # Each trusted proxy appends the address it saw; the client is `hops` entries from the
    # right. Entries further left were written by the client and cannot be trusted.
    if len(chain) >= hops:
        return str(chain[-hops])
    if chain:
        return str(chain[0])
    return str(remote_addr)
