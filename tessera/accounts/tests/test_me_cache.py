"""GET /api/auth/me on its hot path: session, user and profile extras come from one cache
read, and every change to the profile shows at once."""

from __future__ import annotations

from typing import Any

import pytest
from django.db import connection
from django.test.utils import CaptureQueriesContext

from tessera.accounts.models import EventInterest
from tests.fixtures import ApiClient

pytestmark = pytest.mark.django_db

PASSWORD = "correct horse battery"


def signed_in_client(email: str = "ada@example.com", password: str = PASSWORD) -> ApiClient:
    response = ApiClient().post("/api/auth/login", {"email": email, "password": password})
    assert response.status_code == 200, response.json()
    return ApiClient(token=response.json()["data"]["accessToken"])


def interest_ids(*slugs: str) -> list[str]:
    return [str(EventInterest.objects.get(slug=slug).pk) for slug in slugs]


def test_a_warm_me_makes_no_query(user: Any) -> None:
    client = signed_in_client()
    first = client.get("/api/auth/me")
    assert first.status_code == 200

    with CaptureQueriesContext(connection) as queries:
        again = client.get("/api/auth/me")

    assert again.status_code == 200
    assert again.json()["data"] == first.json()["data"]
    cache_table_reads = [q for q in queries.captured_queries if "tessera_cache" in q["sql"]]
    # The embedded default keeps its cache in the database: one read is the cache read.
    assert len(queries.captured_queries) == len(cache_table_reads) <= 1


def test_profile_changes_show_on_the_next_me(user: Any) -> None:
    client = signed_in_client()
    assert client.get("/api/auth/me").json()["data"]["eventInterests"] == []

    changed = client.patch("/api/auth/me", {"eventInterests": interest_ids("music", "sports")})
    assert changed.status_code == 200

    slugs = [i["slug"] for i in client.get("/api/auth/me").json()["data"]["eventInterests"]]
    assert slugs == ["music", "sports"]

    # A change made elsewhere (the admin, another service) is seen too.
    user.refresh_from_db()
    user.interests.set(EventInterest.objects.filter(slug="music"))
    user.save()
    slugs = [i["slug"] for i in client.get("/api/auth/me").json()["data"]["eventInterests"]]
    assert slugs == ["music"]


def test_one_users_extras_never_reach_another(user: Any, other_user: Any) -> None:
    ada = signed_in_client()
    assert ada.patch("/api/auth/me", {"eventInterests": interest_ids("music")}).status_code == 200
    ada.get("/api/auth/me")

    other = signed_in_client(other_user.email, "another long pass")

    assert other.get("/api/auth/me").json()["data"]["eventInterests"] == []


def test_the_kept_reply_is_what_the_schema_renders(user: Any) -> None:
    client = signed_in_client()
    assert (
        client.patch("/api/auth/me", {"eventInterests": interest_ids("music")}).status_code == 200
    )
    client.get("/api/auth/me")

    kept = client.get("/api/auth/me")
    rendered = client.patch("/api/auth/me", {})  # answered through the response schema

    assert kept["Content-Type"] == rendered["Content-Type"]
    assert kept.json()["data"] == rendered.json()["data"]
    assert kept.json()["message"] == rendered.json()["message"]
