"""The notifications HTTP API through the real URL routing and middleware."""

from __future__ import annotations

from datetime import timedelta
from typing import Any

import pytest
from django.utils import timezone

from tessera.notifications import services
from tessera.notifications.models import Notification, NotificationPreference
from tessera.notifications.tests.factories import (
    NotificationFactory,
    NotificationPreferenceFactory,
)

pytestmark = pytest.mark.django_db

URL = "/api/notifications"


def iso(value: Any) -> str:
    return value.isoformat().replace("+00:00", "Z")


def make_notifications(user: Any, count: int) -> list[Notification]:
    """`count` notifications, oldest first, each a minute apart."""
    start = timezone.now() - timedelta(hours=1)
    made = []
    for index in range(count):
        notification = NotificationFactory.create(user=user, title=f"N{index}")
        Notification.objects.filter(pk=notification.pk).update(
            created_at=start + timedelta(minutes=index)
        )
        notification.refresh_from_db()
        made.append(notification)
    return made


def error_of(response: Any) -> dict[str, Any]:
    body = response.json()
    assert body["status"] == "error"
    return dict(body["error"])


# --- listing ------------------------------------------------------------------------------------


def test_listing_needs_a_token(api: Any) -> None:
    response = api.get(URL)

    assert response.status_code == 401
    assert error_of(response)["code"] == "not_authenticated"


def test_list_is_newest_first_paginated_and_camel_cased(user: Any, user_api: Any) -> None:
    oldest, middle, newest = make_notifications(user, 3)
    Notification.objects.filter(pk=middle.pk).update(data={"eventId": "e1"})

    response = user_api.get(URL, {"pageSize": 2})

    assert response.status_code == 200
    body = response.json()
    assert body["status"] == "success"
    assert body["data"]["count"] == 3
    assert (body["data"]["page"], body["data"]["pageSize"], body["data"]["pages"]) == (1, 2, 2)
    assert body["data"]["items"] == [
        {
            "id": str(newest.pk),
            "kind": "event.invite",
            "title": "N2",
            "body": "Something happened.",
            "data": {},
            "isRead": False,
            "readAt": None,
            "createdAt": iso(newest.created_at),
        },
        {
            "id": str(middle.pk),
            "kind": "event.invite",
            "title": "N1",
            "body": "Something happened.",
            "data": {"eventId": "e1"},
            "isRead": False,
            "readAt": None,
            "createdAt": iso(middle.created_at),
        },
    ]

    second_page = user_api.get(URL, {"pageSize": 2, "page": 2}).json()["data"]
    assert [item["id"] for item in second_page["items"]] == [str(oldest.pk)]


def test_list_shows_only_your_own_notifications(user: Any, other_user: Any, user_api: Any) -> None:
    mine = NotificationFactory.create(user=user)
    NotificationFactory.create(user=other_user)

    items = user_api.get(URL).json()["data"]["items"]

    assert [item["id"] for item in items] == [str(mine.pk)]


def test_list_filters_unread_and_read(user: Any, user_api: Any) -> None:
    read, unread = make_notifications(user, 2)
    Notification.objects.filter(pk=read.pk).update(read_at=timezone.now())

    unread_ids = [i["id"] for i in user_api.get(URL, {"unread": "true"}).json()["data"]["items"]]
    read_ids = [i["id"] for i in user_api.get(URL, {"unread": "false"}).json()["data"]["items"]]

    assert unread_ids == [str(unread.pk)]
    assert read_ids == [str(read.pk)]


def test_list_rejects_a_bad_filter_and_bad_paging(user_api: Any) -> None:
    bad_filter = user_api.get(URL, {"unread": "maybe"})
    bad_page = user_api.get(URL, {"pageSize": 0})

    assert bad_filter.status_code == 422
    assert error_of(bad_filter)["code"] == "invalid_query_parameter"
    assert list(error_of(bad_filter)["fields"]) == ["unread"]
    assert bad_page.status_code == 422
    assert list(error_of(bad_page)["fields"]) == ["pageSize"]


def test_notify_shows_up_in_the_list(user: Any, user_api: Any) -> None:
    services.notify(
        user=user,
        kind="account.welcome",
        channels=["in_app"],
        context={"name": "Ada"},
        data={"next": "/profile"},
    )

    items = user_api.get(URL).json()["data"]["items"]

    assert [(i["kind"], i["title"], i["data"]) for i in items] == [
        ("account.welcome", "Welcome to Tessera, Ada", {"next": "/profile"})
    ]


# --- marking read -------------------------------------------------------------------------------


def test_mark_one_read(user: Any, user_api: Any) -> None:
    notification = NotificationFactory.create(user=user)

    first = user_api.post(f"{URL}/{notification.pk}/read")
    again = user_api.post(f"{URL}/{notification.pk}/read")

    assert first.status_code == 200
    notification.refresh_from_db()
    assert notification.read_at is not None
    data = first.json()["data"]
    assert (data["id"], data["isRead"], data["readAt"]) == (
        str(notification.pk),
        True,
        iso(notification.read_at),
    )
    assert again.json()["data"]["readAt"] == iso(notification.read_at)


def test_another_users_notification_is_a_404(other_user: Any, user_api: Any) -> None:
    theirs = NotificationFactory.create(user=other_user)

    response = user_api.post(f"{URL}/{theirs.pk}/read")

    assert response.status_code == 404
    assert error_of(response)["code"] == "notification_not_found"
    assert error_of(response)["message"] == "No notification with this id."
    theirs.refresh_from_db()
    assert theirs.read_at is None


def test_marking_an_unknown_or_malformed_id(user_api: Any) -> None:
    unknown = user_api.post(f"{URL}/01890a5d-ac96-774b-bcce-b302099a8057/read")
    malformed = user_api.post(f"{URL}/not-a-uuid/read")

    assert unknown.status_code == 404
    assert error_of(unknown)["code"] == "notification_not_found"
    assert malformed.status_code == 422
    assert error_of(malformed)["code"] == "invalid_path_parameter"


def test_mark_all_read_counts_only_your_unread(user: Any, other_user: Any, user_api: Any) -> None:
    make_notifications(user, 2)
    NotificationFactory.create(user=user, read_at=timezone.now())
    theirs = NotificationFactory.create(user=other_user)

    first = user_api.post(f"{URL}/read-all")
    second = user_api.post(f"{URL}/read-all")

    assert first.status_code == 200
    assert first.json()["data"] == {"marked": 2}
    assert second.json()["data"] == {"marked": 0}
    assert Notification.objects.filter(user=user, read_at__isnull=True).count() == 0
    theirs.refresh_from_db()
    assert theirs.read_at is None


# --- preferences --------------------------------------------------------------------------------


def test_preferences_start_empty(user_api: Any) -> None:
    response = user_api.get(f"{URL}/preferences")

    assert response.status_code == 200
    assert response.json()["data"] == []


def test_put_preferences_replaces_them(user: Any, other_user: Any, user_api: Any) -> None:
    NotificationPreferenceFactory.create(user=user, kind="news", channel="sms")
    NotificationPreferenceFactory.create(user=other_user, kind="news", channel="sms")

    response = user_api.put(
        f"{URL}/preferences",
        {
            "preferences": [
                {"kind": "event.invite", "channel": "sms", "enabled": False},
                {"kind": "*", "channel": "email", "enabled": False},
                {"kind": "account.welcome", "channel": "email", "enabled": True},
            ]
        },
    )

    expected = [
        {"kind": "*", "channel": "email", "enabled": False},
        {"kind": "account.welcome", "channel": "email", "enabled": True},
        {"kind": "event.invite", "channel": "sms", "enabled": False},
    ]
    assert response.status_code == 200
    assert response.json()["data"] == expected
    assert user_api.get(f"{URL}/preferences").json()["data"] == expected
    assert NotificationPreference.objects.filter(user=other_user).count() == 1


def test_preferences_set_through_the_api_are_honoured(user: Any, user_api: Any) -> None:
    user_api.put(
        f"{URL}/preferences",
        {
            "preferences": [
                {"kind": "account.welcome", "channel": "in_app", "enabled": False},
            ]
        },
    )

    result = services.notify(user=user, kind="account.welcome")

    assert result.notifications == []
    assert [d.channel for d in result.deliveries] == ["email"]


def test_put_preferences_refuses_duplicates(user: Any, user_api: Any) -> None:
    response = user_api.put(
        f"{URL}/preferences",
        {
            "preferences": [
                {"kind": "news", "channel": "sms", "enabled": False},
                {"kind": "news", "channel": "sms", "enabled": True},
            ]
        },
    )

    assert response.status_code == 422
    assert error_of(response)["code"] == "duplicate_preference"
    assert error_of(response)["fields"] == {"preferences.1": "news on sms appears more than once."}
    assert NotificationPreference.objects.filter(user=user).count() == 0


@pytest.mark.parametrize(
    ("rule", "field"),
    [
        ({"kind": "news", "channel": "pigeon", "enabled": True}, "preferences.0.channel"),
        ({"kind": "News Letter", "channel": "sms", "enabled": True}, "preferences.0.kind"),
        ({"kind": "", "channel": "sms", "enabled": True}, "preferences.0.kind"),
        ({"kind": "news", "channel": "sms", "enabled": "perhaps"}, "preferences.0.enabled"),
        ({"kind": "news", "channel": "sms"}, "preferences.0.enabled"),
    ],
)
def test_put_preferences_refuses_invalid_rules(
    user_api: Any, rule: dict[str, Any], field: str
) -> None:
    response = user_api.put(f"{URL}/preferences", {"preferences": [rule]})

    assert response.status_code == 422
    assert error_of(response)["code"] == "validation_error"
    assert list(error_of(response)["fields"]) == [field]


def test_put_preferences_refuses_a_missing_list_and_bad_json(user_api: Any) -> None:
    missing = user_api.put(f"{URL}/preferences", {})
    not_json = user_api.put(f"{URL}/preferences", "{not json", content_type="application/json")
    too_many = user_api.put(
        f"{URL}/preferences",
        {
            "preferences": [
                {"kind": f"kind{n}", "channel": "sms", "enabled": True} for n in range(201)
            ]
        },
    )

    assert missing.status_code == 422
    assert list(error_of(missing)["fields"]) == ["preferences"]
    assert not_json.status_code == 400
    assert error_of(not_json)["code"] == "malformed_json"
    assert too_many.status_code == 422
    assert list(error_of(too_many)["fields"]) == ["preferences"]


def test_preferences_need_a_token(api: Any) -> None:
    assert api.get(f"{URL}/preferences").status_code == 401
    assert api.put(f"{URL}/preferences", {"preferences": []}).status_code == 401


def test_the_routes_are_in_the_openapi_schema(api: Any) -> None:
    response = api.get("/api/openapi.json")

    assert response.status_code == 200
    paths = response.json()["paths"]
    assert {path: sorted(paths[path]) for path in paths if path.startswith(URL)} == {
        URL: ["get"],
        f"{URL}/read-all": ["post"],
        f"{URL}/preferences": ["get", "put"],
        f"{URL}/{{notification_id}}/read": ["post"],
    }
