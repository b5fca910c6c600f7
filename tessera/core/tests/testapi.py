"""A test-only API mounted at /api/_test/ that exercises every platform convention."""

from __future__ import annotations

import enum
import uuid
from typing import Any

from django.contrib.auth import get_user_model
from django.core.exceptions import ValidationError
from django.http import HttpRequest
from ninja import Field, Status
from ninja.pagination import paginate

from tessera.core.api import ApiRouter, CamelSchema, TesseraAPI
from tessera.core.auth import bearer_auth
from tessera.core.errors import (
    AuthenticationRequiredError,
    ConflictError,
    ErrorCode,
    InvalidInputError,
    NotFoundError,
    PermissionDeniedError,
    RateLimitedError,
)
from tessera.core.idempotency import idempotent
from tessera.core.pagination import CursorPagination, PagePagination
from tessera.core.ratelimit import RateLimit

router = ApiRouter()


class TestApiErrorCode(ErrorCode):
    """A module's own code, as an app declares them (this one is not in the real schema:
    only apps' `errors.py` enums are)."""

    TEST_ROUTE_FULL = "test_route_full"


class Color(enum.StrEnum):
    RED = "red"
    GREEN = "green"


class AddressIn(CamelSchema):
    street_name: str
    post_code: str = Field(min_length=4, max_length=10)


class ProfileIn(CamelSchema):
    display_name: str = Field(min_length=1, max_length=50)
    favourite_color: Color
    home_address: AddressIn
    age: int = Field(ge=0)


class ProfileOut(CamelSchema):
    display_name: str
    favourite_color: Color
    home_address: AddressIn
    age: int


class ItemOut(CamelSchema):
    item_id: uuid.UUID


class ColorOut(CamelSchema):
    chosen_color: Color


class UserOut(CamelSchema):
    id: uuid.UUID
    email: str | None
    display_name: str = Field(validation_alias="name")


class NoteIn(CamelSchema):
    note_text: str


class NoteOut(CamelSchema):
    user_id: uuid.UUID
    note_text: str


class WhoAmIOut(CamelSchema):
    user_id: uuid.UUID


@router.post("/profiles", response={201: ProfileOut})
def profile_create(request: HttpRequest, payload: ProfileIn) -> Status:
    request.api_message = "Profile created."  # type: ignore[attr-defined]
    return Status(201, payload)


@router.get("/items/{item_id}", response=ItemOut)
def item_detail(request: HttpRequest, item_id: uuid.UUID) -> dict[str, Any]:
    return {"item_id": item_id}


@router.get("/colors", response=ColorOut)
def color_pick(request: HttpRequest, color: Color) -> dict[str, Any]:
    return {"chosen_color": color}


@router.get("/users/page", response=list[UserOut])
@paginate(PagePagination)
def users_page(request: HttpRequest) -> Any:
    return get_user_model().objects.order_by("email")


@router.get("/users/cursor", response=list[UserOut])
@paginate(CursorPagination)
def users_cursor(request: HttpRequest) -> Any:
    return get_user_model().objects.all()


@router.get("/errors/{kind}")
def raise_error(request: HttpRequest, kind: str) -> None:
    if kind == "unauthenticated":
        raise AuthenticationRequiredError
    if kind == "forbidden":
        raise PermissionDeniedError
    if kind == "missing":
        raise NotFoundError
    if kind == "conflict":
        raise ConflictError("The event is already full.", code=TestApiErrorCode.TEST_ROUTE_FULL)
    if kind == "invalid":
        raise InvalidInputError(fields={"startsAt": "Must be in the future.", "title": "Too long."})
    if kind == "rate-limited":
        raise RateLimitedError(retry_after=17)
    if kind == "django-validation":
        raise ValidationError({"email": ["Enter a valid email address."]})
    if kind == "django-validation-bare":
        raise ValidationError("The capsule is already sealed.")
    if kind == "does-not-exist":
        get_user_model().objects.get(pk=uuid.uuid4())
    if kind == "crash":
        raise RuntimeError("database password is hunter2")
    raise NotFoundError


@router.get("/whoami", response=WhoAmIOut, auth=bearer_auth)
def whoami(request: HttpRequest) -> dict[str, Any]:
    return {"user_id": request.auth.pk}  # type: ignore[attr-defined]


@router.get("/limited/ip", throttle=[RateLimit("3/minute", key="ip")])
def limited_ip(request: HttpRequest) -> dict[str, bool]:
    return {"ok": True}


@router.get("/limited/user", auth=bearer_auth, throttle=[RateLimit("3/minute", key="user")])
def limited_user(request: HttpRequest) -> dict[str, bool]:
    return {"ok": True}


def _note_create(note_text: str) -> Any:
    # A user row stands in for any record the route creates: tests count them by name.
    return get_user_model().objects.create_user(
        email=f"{uuid.uuid4().hex}@notes.example.com", name=note_text
    )


@router.post("/notes", response={201: NoteOut})
@idempotent
def note_create(request: HttpRequest, payload: NoteIn) -> Status:
    row = _note_create(payload.note_text)
    return Status(201, {"user_id": row.pk, "note_text": payload.note_text})


@router.post("/notes/mine", response={201: NoteOut}, auth=bearer_auth)
@idempotent
def note_create_mine(request: HttpRequest, payload: NoteIn) -> Status:
    row = _note_create(payload.note_text)
    return Status(201, {"user_id": row.pk, "note_text": payload.note_text})


@router.post("/notes/flaky", response={201: NoteOut})
@idempotent
def note_create_flaky(request: HttpRequest, payload: NoteIn) -> Status:
    """Fails with a 500 the first time (after writing a row), succeeds afterwards."""
    first_attempt = not get_user_model().objects.filter(name=payload.note_text).exists()
    row = _note_create(payload.note_text)
    if first_attempt:
        raise RuntimeError("the payment gateway timed out")
    return Status(201, {"user_id": row.pk, "note_text": payload.note_text})


@router.post("/notes/required", response={201: NoteOut})
@idempotent(required=True)
def note_create_key_required(request: HttpRequest, payload: NoteIn) -> Status:
    row = _note_create(payload.note_text)
    return Status(201, {"user_id": row.pk, "note_text": payload.note_text})


@router.post("/notes/limited", response={201: NoteOut})
@idempotent
def note_create_limited(request: HttpRequest, payload: NoteIn) -> Status:
    """Rate limited inside the view (as a per-user limit in a service is) the first time."""
    if not get_user_model().objects.filter(name=payload.note_text).exists():
        _note_create(payload.note_text)
        raise RateLimitedError(retry_after=1)
    row = _note_create(payload.note_text)
    return Status(201, {"user_id": row.pk, "note_text": payload.note_text})


test_api = TesseraAPI(title="Tessera test API", urls_namespace="test-api")
test_api.add_router("", router)
