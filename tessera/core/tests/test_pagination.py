"""Page and cursor pagination over a real model, through the real stack."""

from __future__ import annotations

import base64
from datetime import UTC, datetime, timedelta
from urllib.parse import parse_qs, urlsplit

import pytest
from django.contrib.auth import get_user_model
from django.test import override_settings

from tessera.core.pagination import cursor_sign
from tessera.core.tests.conftest import body

pytestmark = [pytest.mark.urls("tessera.core.tests.urls"), pytest.mark.django_db]


def make_users(count):
    """`count` users whose emails sort in creation order and whose created_at are distinct."""
    user_model = get_user_model()
    users = user_model.objects.bulk_create(
        user_model(email=f"user{index:03d}@example.com", name=f"User {index}")
        for index in range(count)
    )
    start = datetime(2025, 1, 1, tzinfo=UTC)
    for index, created in enumerate(users):
        user_model.objects.filter(pk=created.pk).update(created_at=start + timedelta(minutes=index))
    return users


def emails(items):
    return [item["email"] for item in items]


# --- page / pageSize --------------------------------------------------------------------------


def test_page_defaults_to_the_first_page_of_the_default_size(api):
    make_users(25)

    data = body(api.get("/api/_test/users/page"))["data"]

    assert set(data) == {"items", "count", "page", "pageSize", "pages"}
    assert data["count"] == 25
    assert data["page"] == 1
    assert data["pageSize"] == 20
    assert data["pages"] == 2
    assert emails(data["items"]) == [f"user{index:03d}@example.com" for index in range(20)]
    assert set(data["items"][0]) == {"id", "email", "displayName"}


@override_settings(API_PAGE_SIZE_DEFAULT=2, API_PAGE_SIZE_MAX=3)
def test_page_and_page_size_select_the_slice_and_count_the_pages(api):
    make_users(5)

    last = body(api.get("/api/_test/users/page", {"page": 3}))["data"]
    sized = body(api.get("/api/_test/users/page", {"page": 2, "pageSize": 3}))["data"]
    snake = body(api.get("/api/_test/users/page", {"page": 2, "page_size": 3}))["data"]

    assert (last["count"], last["page"], last["pageSize"], last["pages"]) == (5, 3, 2, 3)
    assert emails(last["items"]) == ["user004@example.com"]
    assert (sized["pageSize"], sized["pages"]) == (3, 2)
    assert emails(sized["items"]) == ["user003@example.com", "user004@example.com"]
    assert snake == sized


@override_settings(API_PAGE_SIZE_DEFAULT=2, API_PAGE_SIZE_MAX=3)
def test_page_size_is_capped_at_the_maximum(api):
    make_users(5)

    data = body(api.get("/api/_test/users/page", {"pageSize": 1000}))["data"]

    assert data["pageSize"] == 3
    assert data["pages"] == 2
    assert len(data["items"]) == 3


def test_a_page_past_the_end_is_empty_but_still_counts(api):
    make_users(3)

    data = body(api.get("/api/_test/users/page", {"page": 9}))["data"]

    assert data["items"] == []
    assert (data["count"], data["page"], data["pages"]) == (3, 9, 1)


def test_an_empty_list_has_one_empty_page(api):
    data = body(api.get("/api/_test/users/page"))["data"]

    assert data == {"items": [], "count": 0, "page": 1, "pageSize": 20, "pages": 1}


@pytest.mark.parametrize(
    ("query", "field"),
    [
        ({"page": 0}, "page"),
        ({"page": "two"}, "page"),
        ({"pageSize": 0}, "pageSize"),
        ({"pageSize": -5}, "pageSize"),
    ],
)
def test_a_bad_page_or_page_size_is_a_422(api, query, field):
    response = api.get("/api/_test/users/page", query)

    assert response.status_code == 422
    error = body(response)["error"]
    assert error["code"] == "invalid_query_parameter"
    assert list(error["fields"]) == [field]


# --- cursor -----------------------------------------------------------------------------------


def test_cursor_pages_forward_and_back_newest_first(api):
    make_users(5)
    newest_first = [f"user{index:03d}@example.com" for index in (4, 3, 2, 1, 0)]

    first = body(api.get("/api/_test/users/cursor", {"pageSize": 2}))["data"]
    second = body(api.get(first["next"]))["data"]
    third = body(api.get(second["next"]))["data"]
    back = body(api.get(third["previous"]))["data"]

    assert set(first) == {"next", "previous", "results"}
    assert emails(first["results"]) == newest_first[0:2]
    assert first["previous"] is None
    assert first["next"].startswith("http://testserver/api/_test/users/cursor?cursor=")
    assert "pageSize=2" in first["next"]
    assert emails(second["results"]) == newest_first[2:4]
    assert second["previous"] is not None
    assert emails(third["results"]) == newest_first[4:5]
    assert third["next"] is None
    assert emails(back["results"]) == newest_first[2:4]


def test_cursor_uses_the_default_page_size_and_caps_the_requested_one(api):
    make_users(101)

    default = body(api.get("/api/_test/users/cursor"))["data"]
    capped = body(api.get("/api/_test/users/cursor", {"page_size": 500}))["data"]

    assert len(default["results"]) == 20
    assert len(capped["results"]) == 100
    assert capped["next"] is not None


def _cursor(raw: str) -> str:
    return base64.b64encode(raw.encode()).decode()


def _flip(text: str, at: int) -> str:
    return text[:at] + ("A" if text[at] != "A" else "B") + text[at + 1 :]


@pytest.mark.parametrize(
    "cursor",
    [
        pytest.param("!!!not-base64!!!", id="not-base64"),
        # What Ninja hands out unsigned: a position anyone can write.
        pytest.param(_cursor("p=2025-01-01T00%3A02%3A00%2B00%3A00"), id="unsigned-position"),
        pytest.param(_cursor("o=abc"), id="offset-not-a-number"),
        pytest.param(_cursor("o=-4"), id="negative-offset"),
        pytest.param(_cursor("p=not-a-date") + "." + "A" * 43, id="made-up-signature"),
        # A cursor signed for another list (the capsules' boxes) is not one of these.
        pytest.param(
            cursor_sign(_cursor("p=2025-01-01"), salt="tessera.capsules.box-cursor"),
            id="other-salt",
        ),
    ],
)
def test_a_forged_cursor_is_a_422_invalid_cursor(api, cursor):
    make_users(3)

    response = api.get("/api/_test/users/cursor", {"cursor": cursor})

    assert response.status_code == 422
    error = body(response)["error"]
    assert error["code"] == "invalid_cursor"
    assert error["message"] == "The cursor is not valid."
    assert error["fields"] == {"cursor": "Use the cursor of a previous page, unchanged."}


def test_a_cursor_handed_out_is_signed_and_refused_once_altered(api):
    make_users(5)
    next_url = body(api.get("/api/_test/users/cursor", {"pageSize": 2}))["data"]["next"]
    cursor = parse_qs(urlsplit(next_url).query)["cursor"][0]
    value, _dot, signature = cursor.rpartition(".")

    kept = api.get("/api/_test/users/cursor", {"pageSize": 2, "cursor": cursor})
    altered = [
        api.get("/api/_test/users/cursor", {"pageSize": 2, "cursor": forged})
        for forged in (_flip(cursor, 0), _flip(cursor, len(value) - 1), _flip(cursor, -1))
    ]
    unsigned = api.get("/api/_test/users/cursor", {"pageSize": 2, "cursor": value})

    assert len(signature) == 43
    assert kept.status_code == 200
    assert emails(body(kept)["data"]["results"]) == ["user002@example.com", "user001@example.com"]
    assert [response.status_code for response in [*altered, unsigned]] == [422] * 4
