"""The avatar and the profile pictures, stored through `tessera.files`.

The client uploads each image to /api/files/ with the purpose `avatar` or
`profile_picture`, then names the file ids here. Only the user's own files of the right
purpose that were not rejected may be attached (`file_get_attachable`).
"""

from __future__ import annotations

import uuid
from collections.abc import Sequence
from dataclasses import dataclass
from typing import Any

from django.db import transaction

from tessera.accounts.errors import FileNotUsableError
from tessera.accounts.models import ProfilePicture, User
from tessera.core.context import ClientContext
from tessera.files.purposes import Purpose as FilePurpose
from tessera.files.schemas import FileRefOut
from tessera.files.selectors import file_get_attachable, file_ref
from tessera.files.services import file_delete


@dataclass(frozen=True)
class UserMedia:
    avatar: FileRefOut | None
    profile_pictures: list[FileRefOut]


def avatar_set(*, user: User, file_id: uuid.UUID | None) -> None:
    """Point the avatar at `file_id` (None removes it; the file itself stays the user's)."""
    user.avatar_id = (
        None
        if file_id is None
        else file_get_attachable(owner=user, file_id=file_id, purpose=FilePurpose.AVATAR).pk
    )
    user.save(update_fields=["avatar", "updated_at"])


def profile_pictures_set(*, user: User, file_ids: Sequence[uuid.UUID]) -> None:
    """Replace the profile pictures with `file_ids`, in that order (at most six)."""
    unique = list(dict.fromkeys(file_ids))
    if len(unique) > ProfilePicture.MAX_PER_USER:
        raise FileNotUsableError(fields={"profilePictures": "At most 6 pictures."})
    files = [
        file_get_attachable(owner=user, file_id=file_id, purpose=FilePurpose.PROFILE_PICTURE)
        for file_id in unique
    ]
    with transaction.atomic():
        ProfilePicture.objects.filter(user=user).delete()
        ProfilePicture.objects.bulk_create(
            [
                ProfilePicture(user=user, file=stored, position=position)
                for position, stored in enumerate(files)
            ]
        )


def account_media_erase(*, user: User) -> None:
    """Delete the avatar and pictures (records now, stored objects after commit)."""
    file_ids = [
        *ProfilePicture.objects.filter(user=user).values_list("file_id", flat=True),
        *([user.avatar_id] if user.avatar_id else []),
    ]
    ProfilePicture.objects.filter(user=user).delete()
    if user.avatar_id:
        user.avatar_id = None
        user.save(update_fields=["avatar", "updated_at"])
    for file_id in dict.fromkeys(file_ids):
        file_delete(owner=user, file_id=file_id)


def user_media(*, user: User, client: ClientContext | None = None) -> UserMedia:
    pictures = (
        ProfilePicture.objects.filter(user=user)
        .select_related("file")
        .prefetch_related("file__variants")
        .order_by("position")
    )
    avatar = None
    if user.avatar_id is not None:
        avatar = file_ref(user.avatar, viewer=user, client=client)
    return UserMedia(
        avatar=avatar,
        profile_pictures=[
            ref
            for picture in pictures
            if (ref := file_ref(picture.file, viewer=user, client=client)) is not None
        ],
    )


def export_media(*, user: User) -> dict[str, Any]:
    media = user_media(user=user)
    return {
        "avatar": media.avatar.model_dump(mode="json", by_alias=True) if media.avatar else None,
        "profilePictures": [
            picture.model_dump(mode="json", by_alias=True) for picture in media.profile_pictures
        ],
    }
