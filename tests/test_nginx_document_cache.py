"""The website document behind deploy/'s Nginx: the template rendered as the cluster renders
it (deploy/nginx/render.py), Debian's Nginx in front of Tessera's live test server. Nginx
keeps one copy per language variant, decides the variant exactly as Tessera does, passes
anything else through uncached, and replaces a kept copy once Tessera's document changes
and its `s-maxage` has run out. Skipped without an nginx binary (`.ci/run` installs it)."""

from __future__ import annotations

import json
import socket
import ssl
import subprocess
import time
from collections.abc import Iterator
from pathlib import Path
from typing import Any

import httpx
import pytest

from tessera.content import demo, services
from tests.system import free_port
from tests.test_deploy import checks

pytestmark = pytest.mark.django_db(transaction=True, serialized_rollback=True)

DOMAIN = "tessera.test"
URL = "/api/website-data/"


def _wait_for(port: int, process: subprocess.Popen[bytes], timeout: float = 10.0) -> None:
    deadline = time.monotonic() + timeout
    while time.monotonic() < deadline:
        if process.poll() is not None:
            raise AssertionError(f"nginx exited with {process.returncode}")
        try:
            socket.create_connection(("127.0.0.1", port), timeout=0.2).close()
            return
        except OSError:
            time.sleep(0.05)
    raise AssertionError(f"nginx did not listen on {port}")


@pytest.fixture
def site(live_server: Any, settings: Any) -> Iterator[None]:
    """The demo site, its document kept by a shared cache for 1 s (s-maxage)."""
    settings.ALLOWED_HOSTS = [DOMAIN, "localhost", "127.0.0.1"]
    settings.TRUSTED_PROXY_HOPS = 1
    settings.CONTENT_SHARED_CACHE_SECONDS = 1
    settings.CONTENT_STALE_WHILE_REVALIDATE_SECONDS = 30
    services._cache_control.cache_clear()  # it reads the settings once
    demo.load()
    yield
    services._cache_control.cache_clear()


@pytest.fixture
def nginx(site: None, live_server: Any, tmp_path: Path) -> Iterator[httpx.Client]:
    try:
        binary = checks.nginx_binary()
    except checks.Skip as reason:
        pytest.skip(str(reason))
    upstream = live_server.url.rsplit(":", 1)[1]
    https = free_port()
    config = checks.write_nginx_config(
        tmp_path,
        NGINX_UPSTREAM_SERVERS=f"server 127.0.0.1:{upstream};",
        NGINX_HTTP_LISTEN=f"127.0.0.1:{free_port()}",
        NGINX_HTTPS_LISTEN=f"127.0.0.1:{https}",
    )
    process = subprocess.Popen(
        [binary, "-p", str(tmp_path), "-c", str(config), "-g", "daemon off;"],
        stdout=subprocess.DEVNULL,
        stderr=subprocess.DEVNULL,
    )
    try:
        _wait_for(https, process)
        # Nginx's certificate is the test's own (for DOMAIN, reached here at 127.0.0.1).
        trust = ssl.create_default_context(cafile=str(tmp_path / "tls" / "fullchain.pem"))
        trust.check_hostname = False
        with httpx.Client(
            base_url=f"https://127.0.0.1:{https}", headers={"Host": DOMAIN}, verify=trust
        ) as client:
            yield client
    finally:
        process.terminate()
        process.wait(timeout=10)


def _get(client: httpx.Client, path: str = URL, **headers: str) -> tuple[str, Any, httpx.Response]:
    reply = client.get(path, headers=headers)
    assert reply.status_code == 200, reply.text
    return reply.headers.get("X-Cache-Status", ""), json.loads(reply.content)["data"], reply


def _first_menu_title(document: Any) -> str:
    return str(document["menuItems"][0]["title"])


def test_each_language_is_kept_once_and_served_from_nginx(nginx: httpx.Client) -> None:
    assert _get(nginx, URL + "?lang=en")[0] == "MISS"
    status, english, reply = _get(nginx, URL + "?lang=en")
    assert status == "HIT"
    assert reply.headers["Content-Language"] == "en"
    assert _get(nginx, URL + "?lang=ar")[0] == "MISS"
    status, arabic, _ = _get(nginx, URL + "?lang=ar")
    assert status == "HIT"
    assert _first_menu_title(arabic) != _first_menu_title(english)

    # An Accept-Language whose first choice is Arabic is the Arabic document. Tessera's reply
    # varies by that header (`Vary`), so Nginx keeps a copy per header value, as any shared
    # cache must (the reply also varies by `Origin` for browsers' cross-origin calls).
    asked = {"Accept-Language": "ar-EG, en;q=0.5"}
    status, negotiated, reply = _get(nginx, URL, **asked)
    assert (status, negotiated) == ("MISS", arabic)
    assert "accept-language" in reply.headers["Vary"].lower()
    assert _get(nginx, URL, **asked)[:2] == ("HIT", arabic)
    # No language asked: the whole document, both languages, kept on its own.
    assert _get(nginx, URL)[0] == "MISS"
    assert _get(nginx, URL)[0] == "HIT"


def test_requests_nginx_cannot_classify_go_to_tessera_uncached(nginx: httpx.Client) -> None:
    # A header that needs negotiating (q-values) and another parameter: Tessera decides.
    for path, headers in (
        (URL, {"Accept-Language": "fr;q=0.9, ar;q=0.8"}),
        (URL + "?lang=en&sections=menuItems", {}),
    ):
        for _ in range(2):
            assert _get(nginx, path, **headers)[0] == "BYPASS"


def test_a_changed_document_replaces_the_kept_copy_once_it_expires(nginx: httpx.Client) -> None:
    from tessera.content.models import MenuItem

    _get(nginx, URL + "?lang=en")
    _, before, _ = _get(nginx, URL + "?lang=en")
    item = MenuItem.objects.order_by("order", "created_at").first()
    assert item is not None
    item.title = "Start here"
    item.save()  # rebuilt on commit (autocommit here)

    # Within s-maxage (1 s) Nginx may still serve the copy it kept; after it, the first
    # request gets the kept copy while Nginx revalidates in the background, and the ones
    # after it the new document.
    deadline = time.monotonic() + 10
    seen = before
    while _first_menu_title(seen) != "Start here" and time.monotonic() < deadline:
        time.sleep(0.3)
        seen = _get(nginx, URL + "?lang=en")[1]
    assert _first_menu_title(seen) == "Start here"
    assert _get(nginx, URL + "?lang=en")[0] == "HIT"
