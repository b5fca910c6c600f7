"""Staff adjust wallets in the admin only with the permission, as a balanced transfer with a
reason, audited; the ledger is read-only there. The demo wallet loads once."""

from __future__ import annotations

from typing import Any

import pytest
from django.contrib.auth.models import Permission
from django.test import Client

from tessera.audit.models import AuditLog
from tessera.notifications.models import Notification
from tessera.wallet import demo, services
from tessera.wallet.models import LedgerEntry, LedgerTransfer, WalletTransaction
from tessera.wallet.tests.helpers import balance, fund

pytestmark = pytest.mark.django_db


def _staff(django_user_model: Any, *, can_adjust: bool) -> Client:
    staff = django_user_model.objects.create_user(
        email=f"staff{int(can_adjust)}@example.com", password="a long staff password", is_staff=True
    )
    codenames = ["view_wallettransaction", "view_ledgeraccount", "view_ledgertransfer"]
    if can_adjust:
        codenames.append("make_adjustment")
    staff.user_permissions.set(
        Permission.objects.filter(content_type__app_label="wallet", codename__in=codenames)
    )
    client = Client()
    client.force_login(staff)
    return client


def _form(user: Any, **overrides: str) -> dict[str, str]:
    return {
        "user_email": user.email,
        "direction": "credit",
        "amount": "25.00",
        "currency": "ZAR",
        "counter_account": "adjustments",
        "reason": "Goodwill credit for ticket #1234",
        **overrides,
    }


def test_adjustments_need_the_permission(django_user_model: Any, user: Any) -> None:
    client = _staff(django_user_model, can_adjust=False)
    assert client.get("/admin/wallet/wallettransaction/adjust/").status_code == 403
    assert client.post("/admin/wallet/wallettransaction/adjust/", _form(user)).status_code == 403
    listing = client.get("/admin/wallet/wallettransaction/")
    assert "Make an adjustment" not in listing.content.decode()
    assert balance(user) == 0


def test_a_credit_is_a_balanced_transfer_with_its_reason_audited_and_told(
    django_user_model: Any, user: Any, django_capture_on_commit_callbacks: Any
) -> None:
    client = _staff(django_user_model, can_adjust=True)
    assert "Make an adjustment" in client.get("/admin/wallet/wallettransaction/").content.decode()
    with django_capture_on_commit_callbacks(execute=True):
        reply = client.post("/admin/wallet/wallettransaction/adjust/", _form(user))
    assert reply.status_code == 302
    assert balance(user) == 2500
    tx = WalletTransaction.objects.get(kind="adjustment")
    assert (tx.direction, tx.description) == ("credit", "Goodwill credit for ticket #1234")
    transfer = LedgerTransfer.objects.get(kind="adjustment")
    assert sum(transfer.entries.values_list("amount_minor", flat=True)) == 0
    assert transfer.created_by is not None
    audit = AuditLog.objects.get(action="wallet.adjustment")
    assert audit.actor_id == transfer.created_by_id
    assert audit.changes["reason"] == "Goodwill credit for ticket #1234"
    assert Notification.objects.filter(user=user, kind="wallet.adjustment_completed").exists()


def test_a_debit_cannot_take_a_wallet_below_zero_and_bad_forms_change_nothing(
    django_user_model: Any, user: Any
) -> None:
    fund(user, 1000)
    client = _staff(django_user_model, can_adjust=True)
    entries = LedgerEntry.objects.count()
    for form, message in [
        (_form(user, direction="debit", amount="10.01"), "does not hold enough"),
        (_form(user, amount="-5"), "more than zero"),
        (_form(user, amount="1.001"), "decimals"),
        (_form(user, reason="because"), "at least 10 characters"),
        (_form(user, user_email="nobody@example.com"), "No user has this email"),
    ]:
        reply = client.post("/admin/wallet/wallettransaction/adjust/", form)
        assert reply.status_code == 200
        assert message in reply.content.decode(), message
    assert LedgerEntry.objects.count() == entries
    assert balance(user) == 1000


def test_the_ledger_admin_is_read_only(django_user_model: Any, user: Any) -> None:
    fund(user, 1000)
    client = _staff(django_user_model, can_adjust=True)
    accounts = client.get("/admin/wallet/ledgeraccount/?kind__exact=gateway_clearing")
    assert accounts.status_code == 200
    assert "-10.00 ZAR" in accounts.content.decode()  # a platform account's sum of entries
    transfer = LedgerTransfer.objects.get()
    assert client.get(f"/admin/wallet/ledgertransfer/{transfer.pk}/change/").status_code == 200
    assert client.get("/admin/wallet/ledgertransfer/add/").status_code == 403
    assert client.post(f"/admin/wallet/ledgertransfer/{transfer.pk}/delete/").status_code == 403


def test_services_refuse_adjustments_without_the_permission(user: Any, other_user: Any) -> None:
    from tessera.core.errors import PermissionDeniedError

    with pytest.raises(PermissionDeniedError):
        services.ledger_adjust(
            actor=other_user,
            user_id=user.pk,
            currency="ZAR",
            amount_minor=100,
            direction="credit",
            reason="I would like money please",
        )


def test_the_demo_wallet_loads_once(django_user_model: Any) -> None:
    from tessera.accounts import demo as accounts_demo

    accounts_demo.load()
    created = demo.load()
    assert created == 4 + 4  # four transactions, four transfers
    assert demo.load() == 0
    dana = django_user_model.objects.get(email="demo@tessera.local")
    assert balance(dana) == 125_000
    assert services.ledger_check().ok
