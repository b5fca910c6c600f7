"""`client_context`: the one place the API layer turns a request into what services need."""

from __future__ import annotations

import dataclasses

import pytest
from django.test import RequestFactory, override_settings

from tessera.core.context import ClientContext, client_context


@override_settings(ALLOWED_HOSTS=["api.example.test"])
def test_the_context_holds_address_agent_host_request_id_and_language() -> None:
    request = RequestFactory().get(
        "/api/x",
        HTTP_HOST="api.example.test",
        HTTP_USER_AGENT="curl/8.0",
        REMOTE_ADDR="203.0.113.9",
        secure=True,
    )
    request.request_id = "req-1"  # type: ignore[attr-defined]
    request.LANGUAGE_CODE = "ar"

    client = client_context(request)

    assert client == ClientContext(
        ip_address="203.0.113.9",
        user_agent="curl/8.0",
        scheme="https",
        host="api.example.test",
        request_id="req-1",
        language="ar",
    )
    assert client.known_ip == "203.0.113.9"
    assert client.base_url == "https://api.example.test"
    with pytest.raises(dataclasses.FrozenInstanceError):
        client.host = "evil.test"  # type: ignore[misc]


@override_settings(ALLOWED_HOSTS=["api.example.test"])
@pytest.mark.parametrize("url", ["/media/a b/é.png", "/media/x.png?sig=1", "//cdn.test/x.png"])
def test_absolute_links_are_those_django_builds(url: str) -> None:
    request = RequestFactory().get("/", HTTP_HOST="api.example.test")

    assert client_context(request).absolute(url) == request.build_absolute_uri(url)


def test_without_a_host_or_for_an_absolute_url_the_link_is_kept() -> None:
    assert ClientContext().absolute("/media/x.png") == "/media/x.png"
    assert ClientContext().known_ip is None
    client = ClientContext(host="api.example.test")
    assert client.absolute("https://bucket.test/x.png") == "https://bucket.test/x.png"


@override_settings(ALLOWED_HOSTS=["api.example.test"])
def test_a_host_django_refuses_gives_no_base() -> None:
    request = RequestFactory().get("/", HTTP_HOST="evil.test")

    assert client_context(request).host == ""
