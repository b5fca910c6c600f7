"""The client's address, taking only a configured number of trusted proxy hops into account."""

from __future__ import annotations

from django.conf import settings
from django.http import HttpRequest


def client_ip(request: HttpRequest) -> str:
    cached = getattr(request, "_tessera_client_ip", None)
    if cached is not None:
        return str(cached)
    remote_addr = request.META.get("REMOTE_ADDR", "") or "unknown"
    hops = settings.TRUSTED_PROXY_HOPS
    address = remote_addr
    if hops > 0:
        forwarded = request.META.get("HTTP_X_FORWARDED_FOR", "")
        chain = [part.strip() for part in forwarded.split(",") if part.strip()]
        # Each trusted proxy appends the address it saw; the client is `hops` entries from
        # the right. Entries further left were written by the client and cannot be trusted.
        if len(chain) >= hops:
            address = chain[-hops]
        elif chain:
            address = chain[0]
    request._tessera_client_ip = address  # type: ignore[attr-defined]
    return address
