"""The inbox/outbox list at scale: page numbers, cursors, the capped count and the index."""

from __future__ import annotations

import base64
from datetime import timedelta
from typing import Any

import pytest
from django.db import connection
from django.utils import timezone

from tessera.capsules import selectors
from tessera.capsules.models import Capsule, CapsuleState
from tessera.capsules.tests.factories import make_capsule

pytestmark = pytest.mark.django_db


@pytest.fixture
def inbox(user: Any, other_user: Any) -> list[str]:
    """Seven capsules to `other_user`, three of them created at the same instant (ties are
    broken by id), plus a draft to them and a capsule to someone else, neither listed."""
    base = timezone.now() - timedelta(days=1)
    capsules = [make_capsule(sender=user, receiver=other_user) for _ in range(7)]
    for position, capsule in enumerate(capsules):
        stamp = base - timedelta(minutes=min(position, 3))
        Capsule.objects.filter(pk=capsule.pk).update(created_at=stamp)
    make_capsule(sender=user, receiver=other_user, state=CapsuleState.DRAFT)
    make_capsule(sender=other_user, receiver=user)
    ordered = Capsule.objects.filter(receiver=other_user).exclude(state=CapsuleState.DRAFT)
    return [str(pk) for pk in ordered.order_by("-created_at", "-id").values_list("pk", flat=True)]


def walk(client: Any, query: str) -> tuple[list[str], list[dict[str, Any]]]:
    seen: list[str] = []
    pages: list[dict[str, Any]] = []
    url = f"/api/capsules?{query}"
    while True:
        response = client.get(url)
        assert response.status_code == 200, response.json()
        page = response.json()["data"]
        pages.append(page)
        seen += [item["id"] for item in page["items"]]
        if page["nextCursor"] is None:
            return seen, pages
        url = f"/api/capsules?{query}&cursor={page['nextCursor']}"


def test_walking_the_inbox_by_cursor_returns_every_capsule_once_in_order(
    other_api: Any, inbox: list[str]
) -> None:
    seen, pages = walk(other_api, "box=inbox&pageSize=2")

    assert seen == inbox
    assert [len(page["items"]) for page in pages] == [2, 2, 2, 1]
    assert pages[0]["page"] == 1
    assert all(page["page"] is None for page in pages[1:])
    assert {(page["count"], page["countExact"]) for page in pages} == {(7, True)}


def test_page_numbers_still_work_and_point_to_the_cursor(other_api: Any, inbox: list[str]) -> None:
    second = other_api.get("/api/capsules?box=inbox&page=2&pageSize=3").json()["data"]
    assert [item["id"] for item in second["items"]] == inbox[3:6]
    assert (second["count"], second["page"], second["pageSize"], second["pages"]) == (7, 2, 3, 3)

    rest = other_api.get(f"/api/capsules?box=inbox&pageSize=3&cursor={second['nextCursor']}")
    assert [item["id"] for item in rest.json()["data"]["items"]] == inbox[6:]
    assert rest.json()["data"]["nextCursor"] is None

    past_the_end = other_api.get("/api/capsules?box=inbox&page=9&pageSize=3").json()["data"]
    assert (past_the_end["items"], past_the_end["count"]) == ([], 7)


def test_the_outbox_and_state_filters_walk_by_cursor_too(
    user_api: Any, user: Any, other_user: Any, inbox: list[str]
) -> None:
    outbox, _ = walk(user_api, "box=outbox&pageSize=3")
    assert len(outbox) == 8  # the seven, plus the sender's own draft
    sealed, _ = walk(user_api, "box=outbox&state=sealed&pageSize=3")
    assert sealed == inbox


def test_a_box_past_the_count_cap_says_its_count_is_not_exact(
    user: Any, other_user: Any, other_api: Any
) -> None:
    now = timezone.now()
    Capsule.objects.bulk_create(
        Capsule(
            sender=user,
            receiver=other_user,
            title=f"c{n}",
            state=CapsuleState.SEALED,
            sealed_at=now,
            scheduled_unlock_at=now + timedelta(days=30),
        )
        for n in range(selectors.COUNT_CAP + 5)
    )
    first = other_api.get("/api/capsules?box=inbox&pageSize=100").json()["data"]
    assert (first["count"], first["countExact"], first["pages"]) == (1000, False, 10)
    assert first["nextCursor"] is not None

    # The last page knows the exact total without counting.
    last = other_api.get("/api/capsules?box=inbox&pageSize=100&page=11").json()["data"]
    assert (len(last["items"]), last["count"], last["countExact"]) == (5, 1005, True)


def encoded(text: str) -> str:
    return base64.urlsafe_b64encode(text.encode()).decode().rstrip("=")


def _flip(text: str, at: int) -> str:
    return text[:at] + ("A" if text[at] != "A" else "B") + text[at + 1 :]


@pytest.mark.parametrize(
    "query",
    [
        "cursor=not-a-cursor!",
        # Cursors as they were before they were signed: a position anyone could write.
        f"cursor={encoded('2026-01-01T00:00:00+00:00|0190d0a4-0000-7000-8000-000000000000')}",
        f"cursor={encoded('yesterday|0190d0a4-0000-7000-8000-000000000000')}",
        # A position with a signature made up to look right.
        "cursor=" + encoded("x" * 24) + "." + "A" * 43,
    ],
)
def test_a_forged_cursor_is_a_422_invalid_cursor(
    other_api: Any, inbox: list[str], query: str
) -> None:
    response = other_api.get(f"/api/capsules?box=inbox&{query}")

    assert response.status_code == 422, response.json()
    body = response.json()
    assert body["status"] == "error"
    assert body["error"]["code"] == "invalid_cursor"
    assert "cursor" in body["error"]["fields"]


def test_a_cursor_altered_anywhere_is_refused_and_the_one_handed_out_works(
    other_api: Any, inbox: list[str]
) -> None:
    cursor = other_api.get("/api/capsules?box=inbox&pageSize=2").json()["data"]["nextCursor"]
    position, signature = cursor.split(".")
    assert (len(position), len(signature)) == (32, 43)  # compact: 24 bytes and a SHA-256 HMAC

    altered = [_flip(cursor, 0), _flip(cursor, len(position) - 1), _flip(cursor, len(cursor) - 1)]
    replies = [other_api.get(f"/api/capsules?box=inbox&pageSize=2&cursor={c}") for c in altered]
    kept = other_api.get(f"/api/capsules?box=inbox&pageSize=2&cursor={cursor}")

    assert [reply.status_code for reply in replies] == [422, 422, 422]
    assert {reply.json()["error"]["code"] for reply in replies} == {"invalid_cursor"}
    assert kept.status_code == 200
    assert [item["id"] for item in kept.json()["data"]["items"]] == inbox[2:4]


@pytest.mark.parametrize("extra", ["&page=2", "a" * 130])
def test_a_cursor_with_a_page_number_or_too_long_is_a_422(
    other_api: Any, inbox: list[str], extra: str
) -> None:
    cursor = other_api.get("/api/capsules?box=inbox&pageSize=2").json()["data"]["nextCursor"]

    response = other_api.get(f"/api/capsules?box=inbox&pageSize=2&cursor={cursor}{extra}")

    assert response.status_code == 422
    assert "cursor" in response.json()["error"]["fields"]


@pytest.mark.postgres
def test_the_inbox_page_and_count_are_served_by_the_partial_inbox_index(
    other_user: Any, inbox: list[str]
) -> None:
    page = selectors.capsule_list(user=other_user, box="inbox")
    with connection.cursor() as cursor:
        cursor.execute("SET LOCAL enable_seqscan = off")
        cursor.execute("SET LOCAL enable_bitmapscan = off")
    plan = page[:21].explain()
    assert "capsule_inbox_idx" in plan
    assert "Sort" not in plan  # the index gives the order: no sort of the whole box
    # The capped count reads the same index. On a table this small the planner may pick the
    # receiver's foreign-key index instead (same receiver, no order needed): both are index
    # reads of one receiver's rows; bench/capsules/inbox.py shows the plan at 100,000 rows.
    count_plan = page.order_by().values("pk")[:1001].explain()
    assert "Seq Scan" not in count_plan
    assert "receiver_id" in count_plan


def test_a_list_item_is_the_capsule_as_its_own_route_shows_it_without_media(
    user_api: Any, other_api: Any, user: Any, other_user: Any
) -> None:
    ready = make_capsule(
        sender=user, receiver=other_user, unlock_in=timedelta(seconds=-5), theme="paper"
    )
    make_capsule(sender=user, receiver=other_user, allow_early_view=True)

    for client, box in ((other_api, "inbox"), (user_api, "outbox")):
        listed = client.get(f"/api/capsules?box={box}").json()["data"]["items"]
        for item in listed:
            alone = client.get(f"/api/capsules/{item['id']}").json()["data"]
            assert {**alone, "media": None} == item
    inbox_item = other_api.get("/api/capsules?box=inbox").json()["data"]["items"][-1]
    assert (inbox_item["id"], inbox_item["state"], inbox_item["body"]) == (
        str(ready.pk),
        "ready",
        "Secret words",
    )
    assert inbox_item["sender"] == {"id": str(user.pk), "name": "Ada"}
    assert inbox_item["receiverEmail"] is None
