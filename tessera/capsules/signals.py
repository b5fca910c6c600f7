"""Retire the kept box pages (`boxcache`) of everyone a change shows up for."""

from __future__ import annotations

from typing import Any

from django.contrib.auth import get_user_model
from django.db.models.signals import post_delete, post_save

from tessera.capsules import boxcache
from tessera.capsules.models import Capsule


def _capsule_changed(sender: Any, instance: Capsule, **kwargs: Any) -> None:
    boxcache.boxes_changed([instance.sender_id, instance.receiver_id])


def _user_changed(sender: Any, instance: Any, **kwargs: Any) -> None:
    # Their own name and their verified addresses (a newly verified one may have capsules
    # waiting to be claimed on the next inbox read) are part of their pages.
    boxcache.boxes_changed([instance.pk])


def connect() -> None:
    post_save.connect(_capsule_changed, sender=Capsule, dispatch_uid="capsules-box-save")
    post_delete.connect(_capsule_changed, sender=Capsule, dispatch_uid="capsules-box-delete")
    post_save.connect(_user_changed, sender=get_user_model(), dispatch_uid="capsules-box-user")
