from __future__ import annotations

from datetime import datetime
from typing import Literal
from uuid import UUID

from pydantic import Field

from tessera.core.api import CamelSchema, InputSchema, Omittable, omittable
from tessera.files.schemas import FileRefOut

StateName = Literal["draft", "sealed", "unfolding", "ready", "opened"]


class CapsuleFilter(CamelSchema):
    box: Literal["inbox", "outbox"] = Field(
        "inbox", description="inbox: sent to you; outbox: yours."
    )
    state: StateName | None = Field(None, description="Only capsules in this (reader's) state.")
    page: int = Field(1, ge=1, le=1_000_000)
    page_size: int | None = Field(None, ge=1)
    cursor: str | None = Field(
        None,
        max_length=200,
        description="The nextCursor of the previous page: deep pages without an OFFSET "
        "(not together with page).",
    )


class CapsuleIn(InputSchema):
    title: str = Field(min_length=1, max_length=200)
    body: str = Field("", max_length=50_000)
    theme: str = Field("", max_length=40)
    allow_early_view: bool = False
    allow_receiver_reply: bool = False
    receiver_id: UUID | None = Field(None, description="An account's id.")
    receiver_email: str | None = Field(
        None, max_length=254, description="An email; without an account the person is invited."
    )
    receiver_phone: str | None = Field(
        None,
        pattern=r"^\+[1-9][0-9]{6,14}$",
        description="An E.164 number; without an account the person is invited by SMS.",
    )
    recipient_id: UUID | None = Field(None, description="An entry of your address book.")
    media_ids: list[UUID] = Field(default_factory=list, max_length=6)


class CapsulePatch(InputSchema):
    # Only the fields sent change; none of them can be null (send "" or [] to empty one).
    title: Omittable[str] = omittable(min_length=1, max_length=200)
    body: Omittable[str] = omittable(max_length=50_000)
    theme: Omittable[str] = omittable(max_length=40)
    allow_early_view: Omittable[bool] = omittable()
    allow_receiver_reply: Omittable[bool] = omittable()
    media_ids: Omittable[list[UUID]] = omittable(max_length=6)


class SealIn(InputSchema):
    scheduled_unlock_at: datetime = Field(
        description="With a time zone; more than 1 minute and at most 5 years ahead."
    )


class ReplyIn(InputSchema):
    body: str = Field(min_length=1, max_length=10_000)


class PersonOut(CamelSchema):
    id: UUID
    name: str


class CapsuleOut(CamelSchema):
    id: UUID
    title: str
    theme: str
    state: StateName
    sender: PersonOut
    receiver: PersonOut | None
    receiver_email: str | None = Field(description="Only for the sender.")
    receiver_phone: str | None = Field(None, description="Only for the sender.")
    allow_early_view: bool
    allow_receiver_reply: bool
    body: str | None = Field(description="Null while the receiver may not read it yet.")
    media: list[FileRefOut] | None
    reply: str | None
    replied_at: datetime | None
    sealed_at: datetime | None
    scheduled_unlock_at: datetime | None
    opened_at: datetime | None
    created_at: datetime
    updated_at: datetime


class CapsulePageOut(CamelSchema):
    items: list[CapsuleOut]
    count: int = Field(description="Capsules in the box, exact up to 1,000 (see countExact).")
    count_exact: bool = Field(
        description="False when the box holds more than 1,000: count and pages are then 1,000 "
        "and its pages; walk on with nextCursor."
    )
    page: int | None = Field(description="Null for a page reached by cursor.")
    page_size: int
    pages: int
    next_cursor: str | None = Field(
        description="Pass as cursor for the page after this one; null on the last page."
    )


class DraftIn(InputSchema):
    title: str = Field("", max_length=200)
    body: str = Field("", max_length=50_000)
    theme: str = Field("", max_length=40)
    recipient_id: UUID | None = None


class DraftPatch(InputSchema):
    # Only the fields sent change; a null `recipientId` clears the recipient, the texts
    # cannot be null (send "" to empty one).
    title: Omittable[str] = omittable(max_length=200)
    body: Omittable[str] = omittable(max_length=50_000)
    theme: Omittable[str] = omittable(max_length=40)
    recipient_id: UUID | None = None


class DraftSendIn(InputSchema):
    scheduled_unlock_at: datetime
    allow_early_view: bool = False
    allow_receiver_reply: bool = False


class DraftOut(CamelSchema):
    id: UUID
    title: str
    body: str
    theme: str
    recipient_id: UUID | None
    created_at: datetime
    updated_at: datetime


class RecipientIn(InputSchema):
    name: str = Field(min_length=1, max_length=120)
    email: str | None = Field(None, max_length=254)
    phone: str | None = Field(None, pattern=r"^\+[1-9][0-9]{6,14}$")


class RecipientPatch(InputSchema):
    name: str | None = Field(None, min_length=1, max_length=120)
    email: str | None = Field(None, max_length=254)
    phone: str | None = Field(None, pattern=r"^\+[1-9][0-9]{6,14}$")


class RecipientOut(CamelSchema):
    id: UUID
    name: str
    email: str
    phone: str
    user_id: UUID | None
    created_at: datetime
