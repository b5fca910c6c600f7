"""What each kind of file may be: its types, largest size, pixel cap and who may see it.

A purpose is chosen by the caller when a file is created and never changes. Limits live here,
in code, so that every process (web, worker, admin) applies the same ones.
"""

from __future__ import annotations

from dataclasses import dataclass

from django.db import models
from django.utils.translation import gettext_lazy as _

MB = 1024 * 1024


class Purpose(models.TextChoices):
    AVATAR = "avatar", _("Avatar")
    PROFILE_PICTURE = "profile_picture", _("Profile picture")
    EVENT_COVER = "event_cover", _("Event cover")
    CONTENT_IMAGE = "content_image", _("Content image")
    CAPSULE_MEDIA = "capsule_media", _("Capsule media")
    EXPORT = "export", _("Export")


class Visibility(models.TextChoices):
    PUBLIC = "public", _("Public")
    PRIVATE = "private", _("Private")


IMAGE_TYPES = frozenset({"image/jpeg", "image/png", "image/webp"})
VIDEO_TYPES = frozenset({"video/mp4", "video/quicktime", "video/webm"})
AUDIO_TYPES = frozenset({"audio/mpeg", "audio/mp4", "audio/ogg", "audio/wav"})
EXPORT_TYPES = frozenset({"text/csv", "application/json", "application/zip", "application/pdf"})


@dataclass(frozen=True)
class PurposePolicy:
    purpose: str
    content_types: frozenset[str]
    max_bytes: int
    max_pixels: int
    default_visibility: str
    visibilities: frozenset[str]
    # Clients may upload it (exports are written by the server only).
    client_upload: bool = True
    # Files of this purpose that no model refers to are removed this long after upload;
    # None keeps them until their owner deletes them.
    unattached_ttl_hours: int | None = 24

    def allows_type(self, content_type: str) -> bool:
        return content_type in self.content_types

    @property
    def accepts_images(self) -> bool:
        return bool(self.content_types & IMAGE_TYPES)


_BOTH = frozenset({Visibility.PUBLIC.value, Visibility.PRIVATE.value})
_PRIVATE = frozenset({Visibility.PRIVATE.value})

POLICIES: dict[str, PurposePolicy] = {
    Purpose.AVATAR: PurposePolicy(
        purpose=Purpose.AVATAR,
        content_types=IMAGE_TYPES,
        max_bytes=10 * MB,
        max_pixels=40_000_000,
        default_visibility=Visibility.PUBLIC,
        visibilities=_BOTH,
    ),
    Purpose.PROFILE_PICTURE: PurposePolicy(
        purpose=Purpose.PROFILE_PICTURE,
        content_types=IMAGE_TYPES,
        max_bytes=10 * MB,
        max_pixels=40_000_000,
        default_visibility=Visibility.PUBLIC,
        visibilities=_BOTH,
    ),
    Purpose.EVENT_COVER: PurposePolicy(
        purpose=Purpose.EVENT_COVER,
        content_types=IMAGE_TYPES,
        max_bytes=20 * MB,
        max_pixels=60_000_000,
        default_visibility=Visibility.PUBLIC,
        visibilities=_BOTH,
    ),
    Purpose.CONTENT_IMAGE: PurposePolicy(
        purpose=Purpose.CONTENT_IMAGE,
        content_types=IMAGE_TYPES,
        max_bytes=20 * MB,
        max_pixels=60_000_000,
        default_visibility=Visibility.PUBLIC,
        visibilities=_BOTH,
    ),
    Purpose.CAPSULE_MEDIA: PurposePolicy(
        purpose=Purpose.CAPSULE_MEDIA,
        content_types=IMAGE_TYPES | VIDEO_TYPES | AUDIO_TYPES,
        max_bytes=500 * MB,
        max_pixels=60_000_000,
        default_visibility=Visibility.PRIVATE,
        visibilities=_PRIVATE,
    ),
    Purpose.EXPORT: PurposePolicy(
        purpose=Purpose.EXPORT,
        content_types=EXPORT_TYPES,
        max_bytes=2048 * MB,
        max_pixels=0,
        default_visibility=Visibility.PRIVATE,
        visibilities=_PRIVATE,
        client_upload=False,
        unattached_ttl_hours=None,
    ),
}

CLIENT_PURPOSES = tuple(p for p, policy in POLICIES.items() if policy.client_upload)
MAX_IMAGE_PIXELS = max(policy.max_pixels for policy in POLICIES.values())


def policy_for(purpose: str) -> PurposePolicy:
    return POLICIES[purpose]
