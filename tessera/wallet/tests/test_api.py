"""The wallet API through the real URL routing: bad input refused with nothing changed,
idempotency, deposits and withdrawals end to end on the sandbox, balance and transactions."""

from __future__ import annotations

from datetime import timedelta
from typing import Any

import pytest
from django.core import mail
from django.utils import timezone

from tessera.audit.models import AuditLog
from tessera.notifications.models import Notification
from tessera.payments import services as payments
from tessera.payments.models import PaymentOrder, SandboxPayout
from tessera.wallet.models import LedgerEntry, WalletTransaction
from tessera.wallet.tests.helpers import BANK, balance, fund

pytestmark = pytest.mark.django_db


def _deposit(api: Any, body: Any, key: str | None = "key-1") -> Any:
    headers = {"HTTP_IDEMPOTENCY_KEY": key} if key else {}
    return api.post("/api/deposits", body, **headers)


def _withdraw(api: Any, body: Any, key: str | None = "w-1") -> Any:
    headers = {"HTTP_IDEMPOTENCY_KEY": key} if key else {}
    return api.post("/api/withdrawals", body, **headers)


@pytest.mark.parametrize(
    ("body", "code", "field"),
    [
        ({"amount": "0", "currency": "ZAR"}, "amount_not_positive", "amount"),
        ({"amount": "-5.00", "currency": "ZAR"}, "amount_not_positive", "amount"),
        ({"amount": "10.001", "currency": "ZAR"}, "amount_too_precise", "amount"),
        ({"amount": "ten", "currency": "ZAR"}, "amount_invalid", "amount"),
        ({"amount": "1e3", "currency": "ZAR"}, "amount_invalid", "amount"),
        ({"amount": "1_000", "currency": "ZAR"}, "amount_invalid", "amount"),
        ({"amount": "\uff15\uff10", "currency": "ZAR"}, "amount_invalid", "amount"),
        ({"amount": "10.00", "currency": "ABC"}, "currency_unknown", "currency"),
        ({"amount": "10.00", "currency": "JPY"}, "currency_not_accepted", "currency"),
        ({"amount": "0.50", "currency": "ZAR"}, "amount_below_minimum", "amount"),
        ({"amount": "100000.01", "currency": "ZAR"}, "amount_above_maximum", "amount"),
        ({"amount": "10.00", "currency": "ZAR", "tip": "1"}, "unknown_field", "tip"),
        ({"currency": "ZAR"}, "validation_error", "amount"),
    ],
)
def test_bad_deposits_are_refused_and_change_nothing(
    user_api: Any, body: dict, code: str, field: str
) -> None:
    reply = _deposit(user_api, body)
    assert reply.status_code == 422, reply.content
    error = reply.json()["error"]
    assert error["code"] == code
    assert field in error["fields"]
    assert WalletTransaction.objects.count() == 0
    assert PaymentOrder.objects.count() == 0


def test_a_float_amount_is_refused(user_api: Any) -> None:
    reply = user_api.post(
        "/api/deposits", {"amount": 10.1, "currency": "ZAR"}, HTTP_IDEMPOTENCY_KEY="f"
    )
    assert reply.status_code == 422
    assert WalletTransaction.objects.count() == 0


def test_money_routes_require_a_key_and_a_token(user_api: Any, api: Any) -> None:
    missing = _deposit(user_api, {"amount": "10.00", "currency": "ZAR"}, key=None)
    assert missing.status_code == 422
    assert "Idempotency-Key" in missing.json()["error"]["fields"]
    assert (
        _withdraw(
            user_api, {"amount": "10.00", "currency": "ZAR", "bankDetails": BANK}, key=None
        ).status_code
        == 422
    )
    assert _deposit(api, {"amount": "10.00", "currency": "ZAR"}).status_code == 401
    assert api.get("/api/balance").status_code == 401
    assert api.get("/api/transactions").status_code == 401
    assert WalletTransaction.objects.count() == 0


def test_the_same_key_replays_and_another_body_with_it_is_refused(user_api: Any) -> None:
    first = _deposit(user_api, {"amount": "150.00", "currency": "ZAR"})
    again = _deposit(user_api, {"currency": "ZAR", "amount": "150.00"})
    other = _deposit(user_api, {"amount": "151.00", "currency": "ZAR"})

    assert first.status_code == again.status_code == 201
    assert again["Idempotent-Replayed"] == "true"
    assert again.json()["data"]["transactionId"] == first.json()["data"]["transactionId"]
    assert other.status_code == 422
    assert other.json()["error"]["code"] == "idempotency_key_reused"
    assert WalletTransaction.objects.count() == 1
    assert PaymentOrder.objects.count() == 1


def test_a_deposit_is_paid_on_the_sandbox_and_credited_once(
    user: Any,
    user_api: Any,
    client: Any,
    sandbox_wire: None,
    django_capture_on_commit_callbacks: Any,
) -> None:
    reply = _deposit(user_api, {"amount": "150.00", "currency": "ZAR"})
    assert reply.status_code == 201
    data = reply.json()["data"]
    assert (data["status"], data["kind"], data["amount"], data["currency"]) == (
        "pending",
        "deposit",
        "150.00",
        "ZAR",
    )
    assert data["checkoutUrl"].startswith("http://testserver/sandbox/checkout/")

    with django_capture_on_commit_callbacks(execute=True):
        paid = client.post(data["checkoutUrl"].removeprefix("http://testserver"), {"action": "pay"})
    assert paid.status_code == 200

    (balance_reply,) = user_api.get("/api/balance").json()["data"]["balances"]
    assert (balance_reply["currency"], balance_reply["amount"], balance_reply["inFlight"]) == (
        "ZAR",
        "150.00",
        "0.00",
    )
    assert "150.00" in balance_reply["display"]
    tx = user_api.get(f"/api/transactions/{data['transactionId']}").json()["data"]
    assert (tx["status"], tx["checkoutUrl"]) == ("completed", None)
    assert LedgerEntry.objects.count() == 2
    notice = Notification.objects.get(user=user)
    assert (notice.kind, notice.title) == ("wallet.deposit_completed", "Deposit received")
    assert "150.00" in notice.body
    assert mail.outbox[-1].subject.startswith("Your deposit of")
    assert AuditLog.objects.filter(action="wallet.deposit.created").count() == 1
    assert AuditLog.objects.filter(action="wallet.deposit.completed").count() == 1


def test_an_arabic_speaker_is_told_in_arabic(
    user: Any,
    user_api: Any,
    client: Any,
    sandbox_wire: None,
    django_capture_on_commit_callbacks: Any,
) -> None:
    user.language = "ar"
    user.save(update_fields=["language"])
    data = _deposit(user_api, {"amount": "20.00", "currency": "ZAR"}).json()["data"]
    with django_capture_on_commit_callbacks(execute=True):
        client.post(data["checkoutUrl"].removeprefix("http://testserver"), {"action": "fail"})
    notice = Notification.objects.get(user=user)
    assert notice.title == "لم يكتمل الإيداع"
    tx = WalletTransaction.objects.get()
    assert tx.status == "failed"
    assert balance(user) == 0


def test_withdrawals_over_the_balance_or_limits_or_with_bad_bank_details_change_nothing(
    user: Any, user_api: Any, settings: Any
) -> None:
    settings.RATE_LIMIT_ENABLED = False  # eight refusals here; the limit has its own test
    fund(user, 10000)
    before = (WalletTransaction.objects.count(), LedgerEntry.objects.count())
    cases = [
        ({"amount": "100.01", "currency": "ZAR", "bankDetails": BANK}, "insufficient_funds"),
        ({"amount": "20.00", "currency": "USD", "bankDetails": BANK}, "insufficient_funds"),
        ({"amount": "9.99", "currency": "ZAR", "bankDetails": BANK}, "amount_below_minimum"),
        ({"amount": "50000.01", "currency": "ZAR", "bankDetails": BANK}, "amount_above_maximum"),
        (
            {"amount": "20.00", "currency": "ZAR", "bankDetails": {**BANK, "accountNumber": "12"}},
            "bank_details_invalid",
        ),
        (
            {
                "amount": "20.00",
                "currency": "ZAR",
                "bankDetails": {**BANK, "iban": "GB00WEST12345698765432"},
            },
            "bank_details_invalid",
        ),
        (
            {"amount": "20.00", "currency": "ZAR", "bankDetails": {**BANK, "pin": "1234"}},
            "unknown_field",
        ),
    ]
    for number, (body, code) in enumerate(cases):
        reply = _withdraw(user_api, body, key=f"bad-{number}")
        assert reply.status_code == 422, (body, reply.content)
        assert reply.json()["error"]["code"] == code
    bad_account = _withdraw(user_api, cases[4][0], key="again")
    assert bad_account.json()["error"]["fields"] == {
        "bankDetails.accountNumber": "An account number is 6 to 20 digits."
    }
    assert (WalletTransaction.objects.count(), LedgerEntry.objects.count()) == before
    assert balance(user) == 10000


def test_a_withdrawal_reserves_at_once_and_completes_with_the_payout(
    user: Any,
    user_api: Any,
    sandbox_wire: None,
    django_capture_on_commit_callbacks: Any,
    settings: Any,
) -> None:
    fund(user, 10000)
    settings.PAYMENTS_SANDBOX_PAYOUT_DELAY_SECONDS = 3600
    with django_capture_on_commit_callbacks(execute=True):
        reply = _withdraw(user_api, {"amount": "40.00", "currency": "ZAR", "bankDetails": BANK})
    assert reply.status_code == 201
    data = reply.json()["data"]
    assert (data["status"], data["amount"], data["direction"]) == ("processing", "40.00", "debit")
    assert data["bankDetails"]["accountNumber"] == "••••••7890"
    assert "1234567890" not in reply.content.decode()
    balances = user_api.get("/api/balance").json()["data"]["balances"]
    assert (balances[0]["amount"], balances[0]["inFlight"]) == ("60.00", "40.00")

    SandboxPayout.objects.update(settle_at=timezone.now())
    with django_capture_on_commit_callbacks(execute=True):
        payments.payments_sweep()
    tx = user_api.get(f"/api/transactions/{data['transactionId']}").json()["data"]
    assert tx["status"] == "completed"
    assert balance(user) == 6000
    assert Notification.objects.filter(user=user, kind="wallet.withdrawal_completed").count() == 1


def test_a_failed_payout_returns_the_money(
    user: Any, user_api: Any, sandbox_wire: None, django_capture_on_commit_callbacks: Any
) -> None:
    fund(user, 10000)
    with django_capture_on_commit_callbacks(execute=True):
        reply = _withdraw(
            user_api,
            {
                "amount": "40.00",
                "currency": "ZAR",
                "bankDetails": {**BANK, "accountNumber": "0000000000"},
            },
        )
    tx = user_api.get(f"/api/transactions/{reply.json()['data']['transactionId']}").json()["data"]
    assert tx["status"] == "failed"
    assert "failing test account" in tx["failureReason"]
    assert balance(user) == 10000
    assert Notification.objects.filter(user=user, kind="wallet.withdrawal_failed").count() == 1


def test_five_withdrawals_an_hour(user: Any, user_api: Any, settings: Any) -> None:
    settings.PAYMENTS_SANDBOX_PAYOUT_DELAY_SECONDS = 3600
    fund(user, 100000)
    body = {"amount": "10.00", "currency": "ZAR", "bankDetails": BANK}
    statuses = [_withdraw(user_api, body, key=f"w{n}").status_code for n in range(6)]
    assert statuses == [201] * 5 + [429]
    # The limit counts attempts at the route, refused ones too (docs/decisions/0028).
    assert WalletTransaction.objects.filter(kind="withdrawal").count() == 5


def test_transactions_filter_and_page_by_cursor_and_stay_private(
    user: Any, user_api: Any, other_api: Any
) -> None:
    paid = fund(user, 5000)
    _deposit(user_api, {"amount": "20.00", "currency": "ZAR"}, key="open")
    WalletTransaction.objects.filter(pk=paid.pk).update(
        created_at=timezone.now() - timedelta(days=3)
    )

    everything = user_api.get("/api/transactions").json()["data"]
    assert [t["status"] for t in everything["results"]] == ["pending", "completed"]
    completed = user_api.get("/api/transactions?status=completed&kind=deposit").json()["data"]
    assert [t["id"] for t in completed["results"]] == [str(paid.pk)]
    since = (timezone.now() - timedelta(days=1)).isoformat().replace("+00:00", "Z")
    recent = user_api.get("/api/transactions", {"createdAfter": since}).json()["data"]
    assert [t["amount"] for t in recent["results"]] == ["20.00"]
    first_page = user_api.get("/api/transactions?pageSize=1").json()["data"]
    assert len(first_page["results"]) == 1
    assert first_page["next"]
    second = user_api.get(first_page["next"].split("testserver")[-1]).json()["data"]
    assert second["results"][0]["id"] == str(paid.pk)
    assert user_api.get("/api/transactions?kind=bribe").status_code == 422
    assert user_api.get("/api/transactions?cursor=garbage").status_code == 422

    assert other_api.get(f"/api/transactions/{paid.pk}").status_code == 404
    assert other_api.get("/api/transactions").json()["data"]["results"] == []
    assert other_api.get("/api/balance").json()["data"]["balances"] == []
    assert user_api.get("/api/transactions/not-a-uuid").status_code == 422


@pytest.mark.parametrize("name", ["createdAfter", "createdBefore"])
def test_a_time_without_a_zone_is_refused(user_api: Any, name: str) -> None:
    # Times are UTC with an offset (`Z`); a naive one would be read in the server's zone.
    reply = user_api.get("/api/transactions", {name: "2030-01-01T00:00:00"})
    assert reply.status_code == 422
    error = reply.json()["error"]
    assert error["code"] == "invalid_query_parameter"
    assert name in error["fields"]
    aware = user_api.get("/api/transactions", {name: "2030-01-01T00:00:00+02:00"})
    assert aware.status_code == 200


def test_a_refunded_deposit_is_taken_back_from_the_wallet(user: Any, user_api: Any) -> None:
    deposit = fund(user, 10000)
    payments.payment_refund(
        order_id=deposit.payment_order_id, amount_minor=2500, idempotency_key="r"
    )

    assert balance(user) == 7500
    refund = WalletTransaction.objects.get(kind="refund")
    assert (refund.direction, refund.amount_minor, refund.status) == ("debit", 2500, "completed")
    kinds = [t["kind"] for t in user_api.get("/api/transactions").json()["data"]["results"]]
    assert kinds == ["refund", "deposit"]


@pytest.mark.parametrize(
    ("name", "value"),
    [("createdAfter", "9999-12-31T23:59:59-23:59"), ("createdBefore", "0001-01-01T00:00:00+14:00")],
)
def test_a_time_with_no_utc_equivalent_is_refused(user_api: Any, name: str, value: str) -> None:
    # Both parse, but converting them to UTC leaves the years a datetime can hold (a 500).
    reply = user_api.get("/api/transactions", {name: value})
    assert reply.status_code == 422
    error = reply.json()["error"]
    assert error["code"] == "invalid_query_parameter"
    assert name in error["fields"]


def test_a_post_without_a_body_names_the_body_not_an_internal_parameter(user_api: Any) -> None:
    reply = _deposit(user_api, "")
    assert reply.status_code == 422
    assert reply.json()["error"]["fields"] == {"body": "Field required"}
    assert WalletTransaction.objects.count() == 0
