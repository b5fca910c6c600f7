"""Notices are sent in batches by a drain over the due rows, each exactly once per status."""

from __future__ import annotations

from typing import Any

import pytest

from tessera.accounts.models import User
from tessera.notifications.models import Notification
from tessera.wallet import services
from tessera.wallet.models import WalletTransaction
from tessera.wallet.tests.helpers import fund

pytestmark = pytest.mark.django_db


def test_due_notices_go_out_in_one_batch_each_once(user: Any, sandbox_wire: None) -> None:
    other = User.objects.create_user(email="grace@example.com", language="ar")
    # Credited, but the drain their commit schedules has not run (the test never commits).
    deposits = [fund(user, 1000), fund(user, 2500), fund(other, 4000)]
    assert Notification.objects.count() == 0

    assert services.transactions_notify_due() == 3

    kinds = Notification.objects.values_list("user_id", "kind").order_by("user_id")
    assert sorted(kinds) == sorted(
        [(user.pk, "wallet.deposit_completed")] * 2 + [(other.pk, "wallet.deposit_completed")]
    )
    assert Notification.objects.get(user=other).title == "تم استلام الإيداع"
    assert set(
        WalletTransaction.objects.filter(pk__in=[d.pk for d in deposits]).values_list(
            "notified_status", flat=True
        )
    ) == {"completed"}
    # Run again (a redelivered task, beat's sweep): nothing is due, nothing is sent twice.
    assert services.transactions_notify_due() == 0
    assert services.transaction_notify(transaction_id=deposits[0].pk) is None
    assert Notification.objects.count() == 3


def test_one_transaction_can_still_be_told_alone(user: Any, sandbox_wire: None) -> None:
    deposit = fund(user, 1000)

    assert services.transaction_notify(transaction_id=deposit.pk) == "wallet.deposit_completed"

    assert services.transactions_notify_due() == 0
    assert Notification.objects.filter(user=user).count() == 1


def test_a_notice_kind_that_cannot_be_written_holds_no_other_back(
    user: Any, sandbox_wire: None
) -> None:
    from tessera.notifications.models import NotificationTemplate

    credited = fund(user, 1000)
    failed = services.deposit_create(
        user=user, amount_minor=500, currency="ZAR", idempotency_key="to-fail"
    )
    WalletTransaction.objects.filter(pk=failed.pk).update(status="failed")
    NotificationTemplate.objects.filter(key="wallet.deposit_failed").delete()

    assert services.transactions_notify_due() == 2

    assert list(Notification.objects.values_list("kind", flat=True)) == ["wallet.deposit_completed"]
    credited.refresh_from_db()
    failed.refresh_from_db()
    assert (credited.notified_status, failed.notified_status) == ("completed", "")


def test_beats_run_frees_no_drain_slot_and_the_scheduled_run_frees_its_own() -> None:
    from django.core.cache import cache

    from tessera.wallet.tasks import notify_due

    key = f"tessera:drain:{services.NOTICE_DRAIN_NAME}:0"
    cache.add(key, "the-owners-token", timeout=60)  # a scheduled run is queued or running

    notify_due.apply()  # beat's run, every minute: no slot

    assert cache.get(key) == "the-owners-token"
    notify_due.apply(kwargs={"slot": 0, "slot_token": "a-stale-token"})
    assert cache.get(key) == "the-owners-token"
    notify_due.apply(kwargs={"slot": 0, "slot_token": "the-owners-token"})
    assert cache.get(key) is None
