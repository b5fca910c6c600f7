"""The ledger's invariants: in the service on every database, and in PostgreSQL itself
(deferred balance trigger, append-only history, the non-negative check); the nightly check
that proves them and says so when they do not hold."""

from __future__ import annotations

from typing import Any

import pytest
from django.db import IntegrityError, connection, transaction

from tessera.wallet import services
from tessera.wallet.errors import InsufficientFundsError, LedgerUnbalancedError
from tessera.wallet.models import (
    AccountKind,
    LedgerAccount,
    LedgerCheck,
    LedgerEntry,
    LedgerTransfer,
    TransferKind,
)
from tessera.wallet.tests.helpers import balance, fund

pytestmark = pytest.mark.django_db


def _accounts(user: Any, currency: str = "ZAR") -> tuple[LedgerAccount, LedgerAccount]:
    wallet = services.wallet_account(user_id=user.pk, currency=currency)
    clearing = services.system_account(kind=AccountKind.GATEWAY_CLEARING, currency=currency)
    assert wallet is not None
    return wallet, clearing


def test_a_transfer_posts_once_and_moves_the_balance_with_its_entries(user: Any) -> None:
    wallet, clearing = _accounts(user)
    with transaction.atomic():
        first = services.transfer_post(
            kind=TransferKind.DEPOSIT, reference="d:1", legs=[(clearing, -500), (wallet, 500)]
        )
        again = services.transfer_post(
            kind=TransferKind.DEPOSIT, reference="d:1", legs=[(clearing, -500), (wallet, 500)]
        )
    assert first is not None
    assert again is None
    assert balance(user) == 500
    assert LedgerEntry.objects.count() == 2
    clearing.refresh_from_db()
    assert clearing.balance_minor is None  # platform accounts carry no balance column


@pytest.mark.parametrize(
    "legs",
    [
        [("clearing", -500), ("wallet", 499)],
        [("wallet", 500)],
        [("clearing", 0), ("wallet", 0)],
        [("clearing", -500), ("usd", 500)],
    ],
)
def test_unbalanced_transfers_are_refused_by_the_service(user: Any, legs: list) -> None:
    wallet, clearing = _accounts(user)
    usd, _ = _accounts(user, "USD")
    by_name = {"wallet": wallet, "clearing": clearing, "usd": usd}
    with pytest.raises(LedgerUnbalancedError), transaction.atomic():
        services.transfer_post(
            kind=TransferKind.ADJUSTMENT,
            reference="bad",
            legs=[(by_name[name], amount) for name, amount in legs],
        )
    assert LedgerTransfer.objects.count() == 0


def test_a_wallet_never_goes_below_zero(user: Any) -> None:
    wallet, clearing = _accounts(user)
    with pytest.raises(InsufficientFundsError), transaction.atomic():
        services.transfer_post(
            kind=TransferKind.ADJUSTMENT, reference="x", legs=[(wallet, -1), (clearing, 1)]
        )
    assert LedgerEntry.objects.count() == 0
    with pytest.raises(IntegrityError), transaction.atomic():
        LedgerAccount.objects.filter(pk=wallet.pk).update(balance_minor=-1)


def test_posting_needs_the_callers_transaction(user: Any) -> None:
    wallet, clearing = _accounts(user)
    # pytest-django wraps each test in a transaction; leave it to see the guard.
    connection.in_atomic_block, saved = False, connection.in_atomic_block
    try:
        with pytest.raises(RuntimeError, match="caller's transaction"):
            services.transfer_post(
                kind=TransferKind.DEPOSIT, reference="y", legs=[(clearing, -1), (wallet, 1)]
            )
    finally:
        connection.in_atomic_block = saved


def test_the_ledger_check_passes_on_a_sound_ledger(user: Any, other_user: Any) -> None:
    fund(user, 15000)
    fund(other_user, 2500, currency="USD")
    check = services.ledger_check()
    assert check.ok
    assert check.wallets_checked == 2
    assert check.entries_checked == 4
    assert check.currency_sums == {"USD": 0, "ZAR": 0}


def test_the_ledger_check_finds_a_balance_that_drifted_and_says_so(
    user: Any, client: Any, caplog: Any
) -> None:
    fund(user, 15000)
    LedgerAccount.objects.filter(kind=AccountKind.USER_WALLET).update(balance_minor=99)

    check = services.ledger_check()

    assert not check.ok
    (mismatch,) = check.balance_mismatches
    assert (mismatch["balance"], mismatch["entries"]) == (99, 15000)
    assert "ledger_check_failed" in caplog.text
    metrics = client.get("/metrics").content.decode()
    assert "tessera_wallet_ledger_check_ok 0.0" in metrics
    assert 'tessera_wallet_ledger_check_mismatches{kind="balance"} 1.0' in metrics
    assert LedgerCheck.objects.filter(ok=False).count() == 1


@pytest.mark.postgres
def test_postgresql_refuses_an_unbalanced_transfer_at_commit(user: Any) -> None:
    wallet, clearing = _accounts(user)
    transfer = LedgerTransfer.objects.create(kind=TransferKind.ADJUSTMENT, reference="raw")
    _refused_at_commit(
        transfer, [(wallet, 10, "ZAR"), (clearing, -9, "ZAR")], "does not sum to zero"
    )
    # Balanced in USD, but written to ZAR accounts.
    _refused_at_commit(
        transfer, [(wallet, 10, "USD"), (clearing, -10, "USD")], "its account is not"
    )


def _refused_at_commit(transfer: Any, entries: list, message: str) -> None:
    def write() -> None:
        with transaction.atomic():
            for account, amount, currency in entries:
                LedgerEntry.objects.create(
                    transfer=transfer, account=account, amount_minor=amount, currency=currency
                )
            # The trigger is deferred to the commit; force the check now, as a commit would.
            with connection.cursor() as cursor:
                cursor.execute("SET CONSTRAINTS ALL IMMEDIATE")

    with pytest.raises(IntegrityError, match=message):
        write()


@pytest.mark.postgres
def test_postgresql_keeps_the_ledger_append_only(user: Any) -> None:
    fund(user, 1000)
    entry = LedgerEntry.objects.first()
    assert entry is not None
    with pytest.raises(IntegrityError, match="append-only"), transaction.atomic():
        LedgerEntry.objects.filter(pk=entry.pk).update(amount_minor=1)
    with pytest.raises(IntegrityError, match="append-only"), transaction.atomic():
        LedgerEntry.objects.filter(pk=entry.pk).delete()
    with pytest.raises(IntegrityError, match="append-only"), transaction.atomic():
        LedgerTransfer.objects.update(description="rewritten")
    assert LedgerEntry.objects.count() == 2
