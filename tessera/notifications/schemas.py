from __future__ import annotations

from datetime import datetime
from typing import Any, Literal
from uuid import UUID

from pydantic import Field

from tessera.core.api import CamelSchema, InputSchema

ChannelName = Literal["email", "sms", "in_app"]
PREFERENCE_KIND_PATTERN = r"^(\*|[a-z0-9]+([._-][a-z0-9]+)*)$"


class NotificationFilter(CamelSchema):
    unread: bool | None = Field(
        None, description="true: only unread notifications; false: only read ones."
    )


class NotificationOut(CamelSchema):
    id: UUID
    kind: str
    title: str
    body: str
    data: dict[str, Any]
    is_read: bool
    read_at: datetime | None
    created_at: datetime


class ReadAllOut(CamelSchema):
    marked: int = Field(description="How many unread notifications were marked read.")


class PreferenceIn(InputSchema):
    kind: str = Field(
        min_length=1,
        max_length=100,
        pattern=PREFERENCE_KIND_PATTERN,
        description='A notification kind such as "event.invite", or "*" for every kind.',
    )
    channel: ChannelName
    enabled: bool


class PreferencesIn(InputSchema):
    preferences: list[PreferenceIn] = Field(
        max_length=200,
        description="The complete set of rules: rules not listed are removed. An exact kind "
        'wins over "*"; with no rule a channel is on. OTP codes and security alerts are '
        "always sent.",
    )


class PreferenceOut(CamelSchema):
    kind: str
    channel: str
    enabled: bool
