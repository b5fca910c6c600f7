"""One rule for trailing slashes across the API (issue 13, item 11;
docs/decisions/0024-trailing-slashes.md): each route has one form, the one in the OpenAPI
schema. The other form (the slash added or dropped) is redirected there for GET and HEAD
(308, the query kept) and answered as the route for every other method. Every operation of
the schema is tried in both forms."""

from __future__ import annotations

import re
from typing import Any

import pytest

from config.api import api as tessera_api
from tests.fixtures import ApiClient

pytestmark = pytest.mark.django_db

ROUTING_MISS = "No API route matches this path."


def _other_form(path: str) -> str:
    return path[:-1] if path.endswith("/") else path + "/"


# Ids of nothing, the same in every test process (xdist compares the collected ids).
UNKNOWN_ID = "0190d0a4-0000-7000-8000-00000000dead"


def _value(match: re.Match[str]) -> str:
    return "github" if match.group(1) == "provider" else UNKNOWN_ID


def _operations() -> list[tuple[str, str]]:
    schema = tessera_api.get_openapi_schema()
    filled = []
    for path, item in schema["paths"].items():
        concrete = re.sub(r"\{(\w+)\}", _value, path)
        filled += [(method, concrete) for method in item if method != "parameters"]
    return filled


OPERATIONS = _operations()


@pytest.fixture(autouse=True)
def _no_rate_limit(settings: Any) -> None:
    settings.RATE_LIMIT_ENABLED = False


def test_the_operations_cover_both_forms_of_path() -> None:
    paths = {path for _method, path in OPERATIONS}

    assert len(OPERATIONS) >= 60
    assert any(path.endswith("/") for path in paths)  # /api/website-data/
    assert any(not path.endswith("/") for path in paths)  # /api/capsules


@pytest.mark.parametrize(
    "path", sorted({path for method, path in OPERATIONS if method == "get"}), ids=str
)
@pytest.mark.parametrize("method", ["get", "head"])
def test_a_get_or_head_on_the_other_form_is_a_308_to_the_route_keeping_the_query(
    user_api: ApiClient, path: str, method: str
) -> None:
    other = _other_form(path)

    response = getattr(user_api, method)(f"{other}?lang=ar&note=a%20b")
    canonical = getattr(user_api, method)(f"{path}?lang=ar&note=a%20b")

    assert response.status_code == 308, response.content[:300]
    assert response["Location"] == f"{path}?lang=ar&note=a%20b"
    assert response.content == b""
    assert canonical.status_code != 308


@pytest.mark.parametrize(
    ("method", "path"),
    sorted((method, path) for method, path in OPERATIONS if method != "get"),
    ids=str,
)
def test_any_other_method_on_the_other_form_is_answered_as_the_route(
    user_api: ApiClient, other_api: ApiClient, method: str, path: str
) -> None:
    other = _other_form(path)

    # Two users in the same state, so that a write by the first (DELETE /api/auth/me)
    # does not change what the second gets.
    on_route = getattr(user_api, method)(path, {})
    on_other = getattr(other_api, method)(other, {})

    assert on_other.status_code == on_route.status_code, on_other.content[:300]
    if on_route.status_code >= 400:
        route_error = on_route.json()["error"]
        other_error = on_other.json()["error"]
        assert other_error["message"] != ROUTING_MISS
        assert (other_error["code"], other_error["message"]) == (
            route_error["code"],
            route_error["message"],
        )


def test_the_issue_s_two_paths_now_reach_their_routes(user_api: ApiClient) -> None:
    website = user_api.get("/api/website-data?lang=en")
    capsules = user_api.get("/api/capsules/?box=outbox", follow=True)

    assert website.status_code == 308
    assert website["Location"] == "/api/website-data/?lang=en"
    assert capsules.status_code == 200
    assert capsules.redirect_chain == [("/api/capsules?box=outbox", 308)]


def test_a_create_on_the_other_form_is_the_same_route_for_its_idempotency_key(
    user_api: ApiClient,
) -> None:
    payload = {"name": "Grace", "email": "grace@example.com"}

    first = user_api.post("/api/recipients/", payload, HTTP_IDEMPOTENCY_KEY="slash-1")
    replay = user_api.post("/api/recipients", payload, HTTP_IDEMPOTENCY_KEY="slash-1")

    assert first.status_code == replay.status_code == 201
    assert replay["Idempotent-Replayed"] == "true"
    assert user_api.get("/api/recipients").json()["data"]["count"] == 1


def test_a_path_that_matches_no_route_in_either_form_stays_a_404(user_api: ApiClient) -> None:
    for path in ("/api/no/such/route", "/api/no/such/route/", "/api/"):
        response = user_api.get(path)

        assert response.status_code == 404
        assert response.json()["error"]["message"] == ROUTING_MISS


def test_a_remembered_route_match_never_replays_a_redirect_or_another_form(
    user_api: ApiClient,
) -> None:
    # Matches of paths without parameters are remembered (core.middleware._ApiDispatcher);
    # the other form of a path is resolved every time, since its redirect carries the query
    # and a non-GET on it is rewritten to the route.
    for query in ("lang=en", "lang=ar&box=outbox"):
        response = user_api.get(f"/api/capsules/?{query}")
        assert response.status_code == 308
        assert response["Location"] == f"/api/capsules?{query}"
    created = user_api.post("/api/recipients/", {"name": "Grace", "email": "g@example.com"})
    assert created.status_code == 201
    again = user_api.post("/api/recipients/", {"name": "Alan", "email": "a@example.com"})
    assert again.status_code == 201
    assert user_api.get("/api/recipients").json()["data"]["count"] == 2


def test_only_matches_without_parameters_are_remembered(user_api: ApiClient) -> None:
    from django.urls import get_resolver

    user_api.get("/api/capsules")
    user_api.get(f"/api/capsules/{UNKNOWN_ID}")
    user_api.get("/api/capsules/")

    remembered = get_resolver().__dict__.get("tessera_static_matches", {})
    assert "/api/capsules" in remembered
    assert f"/api/capsules/{UNKNOWN_ID}" not in remembered
    assert "/api/capsules/" not in remembered
