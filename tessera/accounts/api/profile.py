"""Profile and account: GET/PATCH/DELETE /me, Loopin's complete-profile, interests, export.

PATCH /me changes the profile only: `email` and `phoneNumber` are not among its fields and
are ignored when sent (the body's unknown keys are dropped); they change through
`POST /me/email` and `POST /me/phone`, which prove the new address first (`contact.py`).
"""

from django.http import HttpRequest, HttpResponse
from ninja.responses import Status

from tessera.accounts import selectors, services, tasks
from tessera.accounts.api.routing import AuthRouter, code_sent_out, per_user, user_out
from tessera.accounts.schemas import (
    AccountDeleteIn,
    CodeSentOut,
    CompleteProfileIn,
    EventInterestOut,
    ExportStartedOut,
    ProfilePatchIn,
    UserOut,
)
from tessera.core.auth import bearer_auth, require_user
from tessera.core.context import client_context
from tessera.core.envelope import dumps, success_response_around
from tessera.core.idempotency import idempotent
from tessera.tasks.services import task_start

router = AuthRouter()


@router.get("/me", response=UserOut, auth=bearer_auth, summary="Your account and profile")
def me(request: HttpRequest) -> HttpResponse:
    # The hottest authenticated route: its reply is kept, serialised, in the authentication
    # cache under the user's generation and read with the session in one round trip
    # (docs/decisions/0011-authenticated-hot-path.md).
    user = require_user(request)
    host = request.get_host()
    body = selectors.me_reply_cached(user=user, host=host)
    if body is None:
        out = user_out(user, request)
        body = dumps(out.model_dump(by_alias=True))
        files = [file for file in (out.avatar, *out.profile_pictures) if file is not None]
        selectors.me_reply_keep(user=user, host=host, body=body, files=files)
    return success_response_around(body)


@router.patch("/me", response=UserOut, auth=bearer_auth, summary="Change your profile")
def me_update(request: HttpRequest, payload: ProfilePatchIn) -> UserOut:
    sent = payload.model_fields_set
    values = {
        "name": payload.name.strip() if payload.name is not None else None,
        "language": payload.language,
        "birth_date": payload.birth_date,
        "gender": payload.gender,
        "bio": payload.bio,
        "location": payload.location,
        "event_interest_ids": payload.event_interests or [],
        "avatar_file_id": payload.avatar_file_id,
        "profile_picture_ids": payload.profile_pictures or [],
    }
    field_for = {"event_interest_ids": "event_interests", "profile_picture_ids": "profile_pictures"}
    changes = services.ProfileChanges(
        **{key: value for key, value in values.items() if field_for.get(key, key) in sent}
    )
    user = services.profile_update(
        user=require_user(request), changes=changes, client=client_context(request)
    )
    return user_out(user, request)


@router.post(
    "/complete-profile",
    response=UserOut,
    auth=bearer_auth,
    summary="Complete your profile after phone sign-up (Loopin)",
)
def complete_profile(request: HttpRequest, payload: CompleteProfileIn) -> UserOut:
    user = services.profile_complete(
        user=require_user(request),
        name=payload.name,
        birth_date=payload.birth_date,
        gender=payload.gender,
        event_interest_ids=payload.event_interests,
        profile_picture_ids=payload.profile_pictures,
        bio=payload.bio,
        location=payload.location,
        client=client_context(request),
    )
    return user_out(user, request)


@router.get(
    "/event-interests",
    response=list[EventInterestOut],
    summary="The event interests a profile may pick (1 to 5)",
)
def event_interests(request: HttpRequest) -> list[EventInterestOut]:
    return [
        EventInterestOut(
            id=interest.pk, slug=interest.slug, name=interest.name, name_ar=interest.name_ar
        )
        for interest in selectors.event_interest_list()
    ]


@router.post(
    "/me/export",
    response={202: ExportStartedOut},
    auth=bearer_auth,
    throttle=per_user("3/hour"),
    summary="Export all your data as JSON (poll the task; its result is the export)",
)
@idempotent
def me_export(request: HttpRequest) -> Status[ExportStartedOut]:
    user = require_user(request)
    record = task_start(task=tasks.account_export, owner_id=user.pk, user_id=str(user.pk))
    return Status(202, ExportStartedOut(task_id=record.pk, status_url=f"/api/tasks/{record.pk}"))


@router.post(
    "/me/delete/code",
    response=CodeSentOut,
    auth=bearer_auth,
    throttle=per_user("5/hour"),
    summary="Text a code to your verified number that confirms deleting your account",
)
def me_delete_code(request: HttpRequest) -> CodeSentOut:
    return code_sent_out(
        services.account_delete_code_send(
            user=require_user(request), client=client_context(request)
        )
    )


@router.delete(
    "/me",
    response={204: None},
    auth=bearer_auth,
    throttle=per_user("10/hour"),
    summary="Delete your account: personal data erased, money and audit records kept",
    description=(
        "Needs proof that it is you, not only an access token: `{password}`, or `{otpCode}` "
        "from `POST /api/auth/me/delete/code` (accounts without a password), or no body "
        "from a session that signed in less than 5 minutes ago. Otherwise 403 "
        "`reauthentication_required`; a wrong password is 400 `wrong_password`. An app "
        "holding something to settle first refuses with 409 (the wallet: `wallet_not_empty` "
        "while it holds money or a withdrawal is on its way)."
    ),
)
def me_delete(request: HttpRequest, payload: AccountDeleteIn | None = None) -> Status[None]:
    services.account_delete(
        user=require_user(request),
        password=payload.password if payload is not None else None,
        otp_code=payload.otp_code if payload is not None else None,
        client=client_context(request),
    )
    return Status(204, None)
