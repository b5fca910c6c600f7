"""Request and reply shapes of /api/auth/ (camelCase out, camelCase or snake_case in)."""

from __future__ import annotations

from datetime import UTC, date, datetime
from typing import Annotated, Any, Literal
from uuid import UUID

from pydantic import Discriminator, Field, Tag, field_validator

from tessera.core.api import CamelSchema, InputSchema
from tessera.files.schemas import FileRefOut

GenderValue = Literal["female", "male", "non_binary", "prefer_not_to_say"]
LanguageValue = Literal["en", "ar"]
ProviderName = Literal["github", "google"]

PASSWORD_MAX = 256
EMAIL_MAX = 254
PHONE_MAX = 32


# --- Input --------------------------------------------------------------------------------


class PhoneIn(InputSchema):
    """A phone number, international form (`+27821234567`)."""

    phone_number: str = Field(min_length=1, max_length=PHONE_MAX, examples=["+27821234567"])


class VerifyOtpIn(InputSchema):
    phone_number: str = Field(min_length=1, max_length=PHONE_MAX, examples=["+27821234567"])
    otp_code: str = Field(min_length=1, max_length=12, examples=["123456"])


class PasswordLoginIn(InputSchema):
    """Email and password."""

    email: str = Field(min_length=1, max_length=EMAIL_MAX, examples=["ada@example.com"])
    password: str = Field(min_length=1, max_length=PASSWORD_MAX)


def _login_kind(value: Any) -> str:
    keys = value if isinstance(value, dict) else vars(value)
    return "<phone>" if {"phoneNumber", "phone_number"} & set(keys) else "<password>"


# The two login bodies told apart by the presence of a phone number, so that a bad body is
# reported against the one the client meant (not as the errors of both shapes).
LoginIn = Annotated[
    Annotated[PasswordLoginIn, Tag("<password>")] | Annotated[PhoneIn, Tag("<phone>")],
    Discriminator(_login_kind),
]


class RegisterIn(InputSchema):
    email: str = Field(min_length=1, max_length=EMAIL_MAX, examples=["ada@example.com"])
    password: str = Field(min_length=1, max_length=PASSWORD_MAX)
    name: str = Field(min_length=1, max_length=100)


class VerifyEmailIn(InputSchema):
    email: str = Field(min_length=1, max_length=EMAIL_MAX)
    code: str = Field(min_length=1, max_length=12)


class EmailIn(InputSchema):
    email: str = Field(min_length=1, max_length=EMAIL_MAX)


class ResetPasswordIn(InputSchema):
    token: str = Field(min_length=1, max_length=200)
    new_password: str = Field(min_length=1, max_length=PASSWORD_MAX)


class ChangePasswordIn(InputSchema):
    current_password: str = Field("", max_length=PASSWORD_MAX)
    new_password: str = Field(min_length=1, max_length=PASSWORD_MAX)


class EmailChangeIn(InputSchema):
    """The new address; the current password too when the account has one."""

    email: str = Field(min_length=1, max_length=EMAIL_MAX, examples=["ada@example.org"])
    current_password: str = Field("", max_length=PASSWORD_MAX)


class EmailChangeConfirmIn(InputSchema):
    email: str = Field(min_length=1, max_length=EMAIL_MAX, examples=["ada@example.org"])
    code: str = Field(min_length=1, max_length=12, examples=["123456"])


class PhoneChangeIn(InputSchema):
    """The new number, international form; the current password too when the account has
    one."""

    phone_number: str = Field(min_length=1, max_length=PHONE_MAX, examples=["+27821234567"])
    current_password: str = Field("", max_length=PASSWORD_MAX)


class AccountDeleteIn(InputSchema):
    """How DELETE /me is confirmed: the password, or a code texted by POST /me/delete/code.
    Neither is needed when the session signed in less than 5 minutes ago."""

    password: str | None = Field(None, min_length=1, max_length=PASSWORD_MAX)
    otp_code: str | None = Field(None, min_length=1, max_length=12, examples=["123456"])


class RefreshIn(InputSchema):
    refresh_token: str = Field(min_length=1, max_length=200)


def _past_date(value: date | None) -> date | None:
    if value is None:
        return value
    if value >= datetime.now(tz=UTC).date() or value.year < 1900:
        raise ValueError("Enter a date of birth in the past (after 1900).")
    return value


class CompleteProfileIn(InputSchema):
    name: str = Field(min_length=2, max_length=100)
    birth_date: date
    gender: GenderValue
    event_interests: list[UUID] = Field(min_length=1, max_length=5)
    profile_pictures: list[UUID] = Field(min_length=1, max_length=6)
    bio: str = Field("", max_length=500)
    location: str = Field("", max_length=100)

    _check_birth_date = field_validator("birth_date")(_past_date)

    @field_validator("name")
    @classmethod
    def _name_not_blank(cls, value: str) -> str:
        if len(value.strip()) < 2:
            raise ValueError("Enter a name of 2 to 100 characters.")
        return value.strip()


class ProfilePatchIn(InputSchema):
    """Only the fields sent change; `null` clears an optional one."""

    name: str | None = Field(None, min_length=1, max_length=100)
    language: LanguageValue | None = None
    birth_date: date | None = None
    gender: GenderValue | None = None
    bio: str | None = Field(None, max_length=500)
    location: str | None = Field(None, max_length=100)
    event_interests: list[UUID] | None = Field(None, max_length=5)
    avatar_file_id: UUID | None = None
    profile_pictures: list[UUID] | None = Field(None, max_length=6)

    _check_birth_date = field_validator("birth_date")(_past_date)


class SocialCallbackIn(InputSchema):
    code: str = Field(min_length=1, max_length=2048)
    state: str = Field(min_length=1, max_length=2048)


class SocialTokenIn(InputSchema):
    """The mobile flow: GitHub's access token, or Google's ID token."""

    access_token: str = Field("", max_length=4096)
    id_token: str = Field("", max_length=8192)


class SocialStartQuery(CamelSchema):
    redirect_uri: str = Field(min_length=1, max_length=2048)


# --- Output -------------------------------------------------------------------------------


class EventInterestOut(CamelSchema):
    id: UUID
    slug: str
    name: str
    name_ar: str


class UserOut(CamelSchema):
    id: UUID
    email: str | None
    email_verified: bool
    phone_number: str | None
    phone_verified: bool
    name: str
    language: str
    role: Literal["user", "staff", "admin"]
    birth_date: date | None
    gender: str | None
    bio: str
    location: str
    event_interests: list[EventInterestOut]
    avatar: FileRefOut | None
    profile_pictures: list[FileRefOut]
    needs_profile_completion: bool
    has_password: bool
    date_joined: datetime


class TokenPairOut(CamelSchema):
    access_token: str
    refresh_token: str
    token_type: Literal["Bearer"] = "Bearer"  # noqa: S105 - the scheme's name
    expires_in: int = Field(description="Seconds the access token lives.")
    refresh_expires_in: int = Field(description="Seconds the refresh token lives unused.")
    session_id: UUID
    needs_profile_completion: bool
    user: UserOut


class CodeSentOut(CamelSchema):
    detail: str
    phone_number: str
    expires_in: int
    resend_in: int
    code_length: int


class EmailCodeSentOut(CamelSchema):
    detail: str
    email: str
    expires_in: int
    resend_in: int
    code_length: int


class DetailOut(CamelSchema):
    detail: str


class EmailVerifiedOut(CamelSchema):
    email: str
    email_verified: bool


class SessionOut(CamelSchema):
    id: UUID
    method: str
    device: str
    ip_address: str | None
    created_at: datetime
    last_used_at: datetime
    current: bool


class LogoutAllOut(CamelSchema):
    ended: int


class ExportStartedOut(CamelSchema):
    task_id: UUID
    status_url: str


class AuthorizationOut(CamelSchema):
    authorization_url: str
    state: str
