"""End to end in headless Chromium: a new user deposits through the sandbox checkout page
(switching it to Arabic and back), the sandbox's signed webhook reaches the live server over
HTTP, the wallet is credited; then a withdrawal, and both are in the transaction list.

Needs `apt-get install -y chromium chromium-driver`; skipped with the reason when they are
absent, unless CI=true, where their absence fails the test.
"""

from __future__ import annotations

import json
import time
import urllib.request
from typing import Any

import pytest

from tessera.content.tests.test_e2e_browser import browser  # noqa: F401 - the fixture

pytestmark = pytest.mark.slow


def _call(url: str, token: str, body: dict | None = None, key: str | None = None) -> Any:
    headers = {"Authorization": f"Bearer {token}", "Content-Type": "application/json"}
    if key:
        headers["Idempotency-Key"] = key
    data = json.dumps(body).encode() if body is not None else None
    request = urllib.request.Request(url, data=data, headers=headers)
    with urllib.request.urlopen(request) as reply:
        return json.loads(reply.read())["data"]


def _wait_for(check: Any, timeout: float = 20) -> Any:
    deadline = time.monotonic() + timeout
    while time.monotonic() < deadline:
        value = check()
        if value:
            return value
        time.sleep(0.2)
    raise AssertionError("timed out")


@pytest.mark.django_db(transaction=True, serialized_rollback=True)
def test_a_new_user_deposits_through_the_checkout_page_and_withdraws(
    browser: Any,  # noqa: F811
    live_server: Any,
    django_user_model: Any,
    settings: Any,
) -> None:
    from selenium.webdriver.common.by import By

    from tessera.accounts.tokens import access_token_issue

    settings.RATE_LIMIT_ENABLED = False
    settings.PAYMENTS_PUBLIC_URL = live_server.url
    settings.PAYMENTS_SANDBOX_WEBHOOK_URL = f"{live_server.url}/webhooks/sandbox"
    settings.PAYMENTS_SANDBOX_PAYOUT_DELAY_SECONDS = 0
    person = django_user_model.objects.create_user(
        email="new@example.com", password="a long pass phrase", name="New Person"
    )
    token = access_token_issue(user=person)
    api = f"{live_server.url}/api"

    deposit = _call(f"{api}/deposits", token, {"amount": "150.00", "currency": "ZAR"}, key="d1")
    assert deposit["status"] == "pending"

    browser.get(deposit["checkoutUrl"])
    assert browser.find_element(By.TAG_NAME, "html").get_attribute("dir") == "ltr"
    browser.find_element(By.ID, "language").click()
    assert browser.find_element(By.TAG_NAME, "html").get_attribute("dir") == "rtl"
    browser.find_element(By.ID, "language").click()
    assert "150" in browser.find_element(By.ID, "amount").text
    browser.find_element(By.ID, "pay").click()
    assert (
        _wait_for(lambda: browser.find_elements(By.ID, "status"))[0].get_attribute("data-status")
        == "paid"
    )

    credited = _wait_for(
        lambda: (
            _call(f"{api}/transactions/{deposit['transactionId']}", token)["status"] == "completed"
        )
    )
    assert credited
    balances = _call(f"{api}/balance", token)["balances"]
    assert [(b["currency"], b["amount"]) for b in balances] == [("ZAR", "150.00")]

    withdrawal = _call(
        f"{api}/withdrawals",
        token,
        {
            "amount": "40.00",
            "currency": "ZAR",
            "bankDetails": {
                "accountHolder": "New Person",
                "accountNumber": "62012345678",
                "bankCode": "250655",
            },
        },
        key="w1",
    )
    assert withdrawal["status"] == "processing"
    _wait_for(
        lambda: (
            _call(f"{api}/transactions/{withdrawal['transactionId']}", token)["status"]
            == "completed"
        )
    )
    listed = _call(f"{api}/transactions", token)["results"]
    assert [(t["kind"], t["status"], t["amount"]) for t in listed] == [
        ("withdrawal", "completed", "40.00"),
        ("deposit", "completed", "150.00"),
    ]
    assert _call(f"{api}/balance", token)["balances"][0]["amount"] == "110.00"
