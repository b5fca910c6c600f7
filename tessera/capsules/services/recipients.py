"""Who a capsule goes to, and the sender's address book."""

from __future__ import annotations

from dataclasses import dataclass
from typing import Any

from django.db import transaction
from django.utils.translation import gettext as _

from tessera.accounts.models import User
from tessera.accounts.selectors import user_get, user_get_by_email, user_get_by_verified_phone
from tessera.capsules.errors import ReceiverInvalidError
from tessera.capsules.models import Recipient
from tessera.capsules.services.common import (
    UNSET,
    _email_checked,
    _phone_checked,
    _recipient_for_owner,
)
from tessera.core.errors import InvalidInputError, NotFoundError


@dataclass(frozen=True)
class Receiver:
    user: User | None
    email: str
    phone: str


def _account_for(*, email: str, phone: str) -> User | None:
    found = user_get_by_email(email=email) if email else None
    if found is None and phone:
        found = user_get_by_verified_phone(phone_number=phone)
    return found


def receiver_resolve(
    *,
    sender: Any,
    receiver_id: Any = None,
    receiver_email: str | None = None,
    receiver_phone: str | None = None,
    recipient_id: Any = None,
) -> Receiver:
    """Who a capsule goes to: an account by id, an address-book entry, an email or a phone
    number (the account holding it, else an invitation by email or SMS)."""
    given = [v for v in (receiver_id, receiver_email, receiver_phone, recipient_id) if v]
    if len(given) != 1:
        raise InvalidInputError(
            _("Give exactly one of receiverId, receiverEmail, receiverPhone or recipientId."),
            fields={"receiverId": _("Exactly one receiver is required.")},
        )
    if receiver_id:
        found = user_get(user_id=receiver_id)
        if found is None:
            raise ReceiverInvalidError(fields={"receiverId": _("No such user.")})
        return Receiver(user=found, email="", phone="")
    if recipient_id:
        recipient = _recipient_for_owner(owner=sender, recipient_id=recipient_id)
        if recipient.user_id is not None:
            return Receiver(user=recipient.user, email="", phone="")
        found = _account_for(email=recipient.email, phone=recipient.phone)
        if found is not None:
            return Receiver(user=found, email="", phone="")
        return Receiver(user=None, email=recipient.email, phone=recipient.phone)
    if receiver_phone:
        phone = _phone_checked(receiver_phone, field="receiverPhone")
        found = user_get_by_verified_phone(phone_number=phone)
        if found is not None:
            return Receiver(user=found, email="", phone="")
        return Receiver(user=None, email="", phone=phone)
    email = _email_checked(receiver_email or "", field="receiverEmail")
    found = user_get_by_email(email=email)
    if found is not None:
        return Receiver(user=found, email="", phone="")
    return Receiver(user=None, email=email, phone="")


def recipient_create(*, owner: Any, name: str, email: str = "", phone: str = "") -> Recipient:
    email = _email_checked(email, field="email") if email.strip() else ""
    phone = _phone_checked(phone, field="phone") if phone.strip() else ""
    if not email and not phone:
        raise InvalidInputError(
            _("A recipient needs an email or a phone number."),
            fields={"email": _("Email or phone is required.")},
        )
    with transaction.atomic():
        recipient = Recipient(
            owner=owner,
            name=name,
            email=email,
            phone=phone,
            user=_account_for(email=email, phone=phone),
        )
        recipient.full_clean(exclude=["owner", "user"])
        recipient.save()
        return recipient


def _owned_recipient(*, owner: Any, recipient_id: Any) -> Recipient:
    recipient = Recipient.objects.select_for_update().filter(pk=recipient_id, owner=owner).first()
    if recipient is None:
        raise NotFoundError(_("The recipient was not found."))
    return recipient


def recipient_update(
    *, owner: Any, recipient_id: Any, name: Any = UNSET, email: Any = UNSET, phone: Any = UNSET
) -> Recipient:
    with transaction.atomic():
        recipient = _owned_recipient(owner=owner, recipient_id=recipient_id)
        if name is not UNSET:
            recipient.name = name
        if email is not UNSET:
            recipient.email = _email_checked(email, field="email") if email else ""
        if phone is not UNSET:
            recipient.phone = _phone_checked(phone, field="phone") if phone else ""
        if email is not UNSET or phone is not UNSET:
            recipient.user = _account_for(email=recipient.email, phone=recipient.phone)
        if not recipient.email and not recipient.phone:
            raise InvalidInputError(
                _("A recipient needs an email or a phone number."),
                fields={"email": _("Email or phone is required.")},
            )
        recipient.full_clean(exclude=["owner", "user"])
        recipient.save()
        return recipient


def recipient_delete(*, owner: Any, recipient_id: Any) -> None:
    with transaction.atomic():
        _owned_recipient(owner=owner, recipient_id=recipient_id).delete()
