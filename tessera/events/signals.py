"""Hearing about accounts (accounts, a platform app, cannot call events).

Accounts offers no callback; like capsules, this module listens to the user model's saves.
A save that sets `email_verified_at` or `phone_verified_at` queues a claim of the
invitations waiting for that address, after the sign-up commits; listing one's invitations
claims them too, so nothing depends on the task's timing. A save of a deleted account
(`deleted_at` set) that still has ties to events queues its departure
(`services.account_departure`: hosted events cancelled, places given up). A save that may
change what discovery shows of a host (their name; a deletion renames them) retires the
kept discovery pages when they host a published event, so the next search shows it.
"""

from __future__ import annotations

from typing import Any

from django.contrib.auth import get_user_model
from django.db.models.signals import post_save

from tessera.core.jobs import enqueue_on_commit

_VERIFIED = {"email_verified_at", "phone_verified_at"}
# What discovery's pages show of a host (schemas.PersonOut).
_SHOWN_OF_A_HOST = {"name"}


def _user_saved(sender: Any, instance: Any, update_fields: Any = None, **kwargs: Any) -> None:
    if update_fields is None or _SHOWN_OF_A_HOST & set(update_fields):
        _host_shown_changed(instance)
    if instance.deleted_at is not None:
        _account_deleted(instance, update_fields)
        return
    if update_fields is not None and not (_VERIFIED & set(update_fields)):
        return
    email = (instance.email or "") if instance.email_verified_at else ""
    phone = (instance.phone_number or "") if instance.phone_verified_at else ""
    if not (email or phone):
        return
    from tessera.events.selectors import invites_pending_for_address
    from tessera.events.tasks import invites_claim

    # One indexed probe (partial index on pending invitations without an account).
    if not invites_pending_for_address(email=email, phone=phone):
        return

    enqueue_on_commit(invites_claim, user_id=str(instance.pk))


def _host_shown_changed(instance: Any) -> None:
    from tessera.events.discoverycache import discovery_changed
    from tessera.events.selectors import hosts_published_events

    if hosts_published_events(user_id=instance.pk):
        discovery_changed()


def _account_deleted(instance: Any, update_fields: Any) -> None:
    if update_fields is not None and "deleted_at" not in update_fields:
        return
    from tessera.events.services import account_has_event_ties
    from tessera.events.tasks import account_departure

    if account_has_event_ties(user_id=instance.pk):
        enqueue_on_commit(account_departure, user_id=str(instance.pk))


def connect() -> None:
    post_save.connect(_user_saved, sender=get_user_model(), dispatch_uid="events-invites-claim")
