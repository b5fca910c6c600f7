"""Who is calling, as far as a service needs to know: the client's address, its user agent,
the scheme and host it reached us on, the request id and the language it asked for.

HTTP stays in the API layer (issue 13, item 29): a route reads these from the request with
`client_context(request)` and passes the value down, so services and selectors take no
`HttpRequest` and run the same from a route, a task, a command or a test. Outside a request
they take `client=None` (nothing is known about a caller) or build one from plain values.
"""

from __future__ import annotations

from dataclasses import dataclass

from django.core.exceptions import DisallowedHost
from django.http import HttpRequest
from django.utils.encoding import iri_to_uri

from tessera.core.client_ip import client_ip


@dataclass(frozen=True, slots=True)
class ClientContext:
    # As `client_ip` reads it (trusted proxy hops only); "unknown" when there is none.
    ip_address: str = "unknown"
    user_agent: str = ""
    scheme: str = "http"
    # The Host the request came in on, checked against ALLOWED_HOSTS ("" when it failed).
    host: str = ""
    request_id: str = ""
    language: str = ""

    @property
    def known_ip(self) -> str | None:
        """The address, or None when it is not known."""
        return self.ip_address if self.ip_address and self.ip_address != "unknown" else None

    @property
    def base_url(self) -> str:
        """Scheme and host (no trailing slash), or "" without a host."""
        return f"{self.scheme}://{self.host}" if self.host else ""

    def absolute(self, url: str) -> str:
        """`url` made absolute on the host the client reached us on, as
        `HttpRequest.build_absolute_uri` does; an absolute `url` is returned as it is."""
        if not self.host or not url.startswith("/"):
            return url
        if url.startswith("//"):  # a network-path reference: only the scheme is ours
            return iri_to_uri(f"{self.scheme}:{url}")
        return iri_to_uri(self.base_url + url)


def client_context(request: HttpRequest) -> ClientContext:
    """The one place a request becomes a `ClientContext`."""
    try:
        host = request.get_host()
    except DisallowedHost:
        host = ""
    return ClientContext(
        ip_address=client_ip(request),
        user_agent=request.META.get("HTTP_USER_AGENT", ""),
        scheme=request.scheme or "http",
        host=host,
        request_id=getattr(request, "request_id", ""),
        language=getattr(request, "LANGUAGE_CODE", ""),
    )
