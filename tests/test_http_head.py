"""HEAD is GET without the body, on every route (issue 13, item 1): every GET operation of the
OpenAPI schema, the plain Django views (health, root, metrics, admin, docs, files) and the
edge. Called through Django's WSGI handler, as a server calls it (the test client strips
HEAD bodies itself, so it could not tell)."""

from __future__ import annotations

import re
import uuid
from typing import Any

import pytest
from django.db import connection

from config.api import api as tessera_api
from tessera.accounts.tokens import access_token_issue
from tessera.capsules.models import CapsuleState
from tessera.capsules.tests.factories import make_capsule
from tessera.content import demo, services
from tessera.content.signals import rebuild_after_commit
from tessera.core.edge import EdgeApp
from tests.fixtures import CountingApp, wsgi_get

pytestmark = pytest.mark.django_db

# Headers that differ between any two replies whatever the method (a new CSRF cookie, the
# time a never-cached page expires).
PER_REPLY = {"date", "expires", "set-cookie"}
REQUEST_ID = "head-equals-get"

NON_API_PATHS = [
    "/",
    "/health/",
    "/health/ready",
    "/metrics",
    "/admin/login/",
    "/api/docs",
    "/api/openapi.json",
    "/media/public/no-such-file.png",
    "/files/private/not-a-signed-link",
    "/no/such/page",
    "/api/no/such/route",
]


@pytest.fixture
def objects(user: Any, other_user: Any) -> dict[str, str]:
    """A real object for each kind of id a path takes (the rest get an unknown id: HEAD must
    match GET's 404 too)."""
    from tessera.capsules.models import Draft, Recipient

    capsule = make_capsule(sender=user, receiver=other_user, state=CapsuleState.SEALED)
    draft = Draft.objects.create(owner=user, title="Later", body="Words")
    recipient = Recipient.objects.create(owner=user, name="Grace", email="grace@example.com")
    return {
        "capsule_id": str(capsule.pk),
        "draft_id": str(draft.pk),
        "recipient_id": str(recipient.pk),
        "provider": "github",
        "section": "heroes",
    }


def _get_paths(objects: dict[str, str]) -> list[str]:
    schema = tessera_api.get_openapi_schema()
    paths = []
    for path, item in schema["paths"].items():
        if "get" in item:
            paths.append(
                re.sub(r"\{(\w+)\}", lambda m: objects.get(m.group(1), str(uuid.uuid4())), path)
            )
    return paths


# Replies whose body changes from one request to the next (request counters, measured
# latencies): their
# length may differ by a digit.
CHANGING_BODY = {"/metrics", "/health/ready"}


def _same_but_body(app: Any, path: str, query: str = "", **meta: str) -> tuple[int, bytes]:
    meta = {"HTTP_X_REQUEST_ID": REQUEST_ID, **meta}
    get_status, get_headers, get_body = wsgi_get(app, path, query, **meta)
    head_status, head_headers, head_body = wsgi_get(app, path, query, method="HEAD", **meta)

    assert head_status == get_status, path
    assert head_body == b"", path
    kept = {name: value for name, value in get_headers.items() if name not in PER_REPLY}
    head_kept = {name: value for name, value in head_headers.items() if name not in PER_REPLY}
    if "content-length" in get_headers:
        assert int(get_headers["content-length"]) == len(get_body), path
    if path in CHANGING_BODY:
        kept.pop("content-length")
        assert int(head_kept.pop("content-length")) > 0
    # A stream of unknown length (none here today) would carry no Content-Length either way.
    assert head_kept == kept, path
    assert set(head_headers) == set(get_headers), path
    return get_status, get_body


def test_head_answers_as_get_without_the_body_on_every_get_route(
    django_wsgi_app: Any, user: Any, objects: dict[str, str], settings: Any
) -> None:
    settings.RATE_LIMIT_ENABLED = False
    auth = {"HTTP_AUTHORIZATION": f"Bearer {access_token_issue(user=user)}"}
    paths = _get_paths(objects)

    statuses = {path: _same_but_body(django_wsgi_app, path, **auth)[0] for path in paths}

    assert len(paths) >= 15
    assert 405 not in statuses.values()
    # Real objects were read, not only 404s.
    assert statuses["/api/ping"] == statuses["/api/auth/me"] == 200
    assert statuses[f"/api/capsules/{objects['capsule_id']}"] == 200
    assert statuses["/api/website-data/"] == 200


@pytest.mark.parametrize("path", NON_API_PATHS)
def test_head_answers_as_get_without_the_body_on_the_other_views(
    django_wsgi_app: Any, path: str, settings: Any
) -> None:
    settings.RATE_LIMIT_ENABLED = False

    status, _body = _same_but_body(django_wsgi_app, path)

    assert status != 405


def test_the_health_probe_answers_head_with_a_200(django_wsgi_app: Any) -> None:
    status, headers, body = wsgi_get(django_wsgi_app, "/health/", method="HEAD")

    assert (status, body) == (200, b"")
    assert headers["content-length"] == str(len(b'{"status":"ok"}'))


def test_a_405_lists_head_wherever_get_is_allowed(django_wsgi_app: Any) -> None:
    status, headers, _body = wsgi_get(django_wsgi_app, "/api/ping", method="DELETE")

    assert status == 405
    assert headers["allow"] == "GET, HEAD"


def test_a_file_served_as_a_stream_answers_head_with_its_length(
    django_wsgi_app: Any, user: Any, settings: Any, tmp_path: Any
) -> None:
    from tessera.files.storage import file_store

    settings.FILES_STORAGE_BACKEND = "local"
    settings.MEDIA_ROOT = tmp_path / "media"
    file_store.cache_clear()
    public = tmp_path / "media" / "public" / "logo.png"
    public.parent.mkdir(parents=True)
    public.write_bytes(b"\x89PNG\r\n\x1a\n" + b"\0" * 100)
    from tessera.files.models import StoredFile

    StoredFile.objects.create(
        owner=user,
        purpose="content_image",
        visibility="public",
        status="ready",
        storage_key="public/logo.png",
        original_name="logo.png",
        content_type="image/png",
        size=108,
        sha256="0" * 64,
    )
    try:
        status, body = _same_but_body(django_wsgi_app, "/media/public/logo.png")
    finally:
        file_store.cache_clear()

    assert status == 200
    assert len(body) == 108


def test_the_edge_answers_head_as_get_without_the_body(django_wsgi_app: Any, settings: Any) -> None:
    settings.RATE_LIMIT_ENABLED = False
    demo.load()
    connection.run_on_commit = [
        entry for entry in connection.run_on_commit if entry[1] is not rebuild_after_commit
    ]
    services.document_rebuild()
    django_app = CountingApp(django_wsgi_app)
    edge = EdgeApp(django_app, routes={"/api/website-data/": "tessera.content.edge.website_data"})

    at_edge = wsgi_get(edge, "/api/website-data/", "lang=en", method="HEAD")
    status, body = _same_but_body(edge, "/api/website-data/", "lang=en")
    from_django = wsgi_get(django_wsgi_app, "/api/website-data/", "lang=en", method="HEAD")

    assert django_app.calls == 0  # the edge answered all three
    assert (at_edge[0], at_edge[2], status) == (200, b"", 200)
    assert at_edge[1]["content-length"] == str(len(body))
    per_reply = {"date", "x-request-id"}
    assert {k: v for k, v in at_edge[1].items() if k not in per_reply} == {
        k: v for k, v in from_django[1].items() if k not in per_reply
    }
