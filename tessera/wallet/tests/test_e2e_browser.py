"""End to end in headless Chromium against `make run` (issue 14): a new user signs up,
deposits through the sandbox checkout page (switching it to Arabic and back), the sandbox's
signed webhook reaches the running server over HTTP and its worker credits the wallet; then
a withdrawal the worker pays out, and both are in the transaction list.

`make run` runs on the embedded default, or, in the services lane (TEST_DATABASE_URL set), on
PostgreSQL, Redis and RabbitMQ with real Celery workers (tests/fixtures.py `make_run_setup`).

Needs `apt-get install -y chromium chromium-driver`; skipped with the reason when they are
absent, unless CI=true, where their absence fails the test.
"""

from __future__ import annotations

import json
import time
import urllib.request
import uuid
from pathlib import Path
from typing import Any

import pytest

from tessera.content.tests.test_e2e_browser import browser  # noqa: F401 - the fixture
from tests.system import BANNER, RunningSystem, Setup, free_port

pytestmark = [pytest.mark.slow, pytest.mark.services_e2e]


def _call(url: str, token: str | None = None, body: dict | None = None, key: str = "") -> Any:
    headers = {"Content-Type": "application/json"}
    if token:
        headers["Authorization"] = f"Bearer {token}"
    if key:
        headers["Idempotency-Key"] = key
    data = json.dumps(body).encode() if body is not None else None
    request = urllib.request.Request(url, data=data, headers=headers)
    with urllib.request.urlopen(request, timeout=30) as reply:
        return json.loads(reply.read())["data"]


def _wait_for(check: Any, what: str, timeout: float = 90) -> Any:
    deadline = time.monotonic() + timeout
    while time.monotonic() < deadline:
        value = check()
        if value:
            return value
        time.sleep(0.5)
    raise AssertionError(f"timed out after {timeout:.0f} s waiting for {what}")


def test_a_new_user_deposits_through_the_checkout_page_and_withdraws(
    browser: Any,  # noqa: F811
    make_run_setup: Setup,
    tmp_path: Path,
) -> None:
    from selenium.webdriver.common.by import By

    system = RunningSystem(
        tmp_path / "var",
        free_port(),
        make_run_setup,
        RATE_LIMIT_ENABLED="false",
        PAYMENTS_SANDBOX_PAYOUT_DELAY_SECONDS="1",
    )
    try:
        system.wait_for(BANNER, "the system the browser drives")
        api = f"http://127.0.0.1:{system.port}/api"
        email = f"new-{uuid.uuid4().hex[:12]}@example.com"
        _call(
            f"{api}/auth/register",
            body={"email": email, "password": "a long pass phrase", "name": "New Person"},
        )
        token = _call(f"{api}/auth/login", body={"email": email, "password": "a long pass phrase"})[
            "accessToken"
        ]

        deposit = _call(f"{api}/deposits", token, {"amount": "150.00", "currency": "ZAR"}, key="d1")
        assert deposit["status"] == "pending"

        browser.get(deposit["checkoutUrl"])
        assert browser.find_element(By.TAG_NAME, "html").get_attribute("dir") == "ltr"
        browser.find_element(By.ID, "language").click()
        assert browser.find_element(By.TAG_NAME, "html").get_attribute("dir") == "rtl"
        browser.find_element(By.ID, "language").click()
        assert "150" in browser.find_element(By.ID, "amount").text
        browser.find_element(By.ID, "pay").click()
        status = _wait_for(lambda: browser.find_elements(By.ID, "status"), "the paid page")
        assert status[0].get_attribute("data-status") == "paid"

        def settled(transaction_id: str) -> bool:
            reply = _call(f"{api}/transactions/{transaction_id}", token)
            return bool(reply["status"] == "completed")

        _wait_for(lambda: settled(deposit["transactionId"]), "the deposit's webhook")
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
        _wait_for(lambda: settled(withdrawal["transactionId"]), "the withdrawal's payout")
        listed = _call(f"{api}/transactions", token)["results"]
        assert [(t["kind"], t["status"], t["amount"]) for t in listed] == [
            ("withdrawal", "completed", "40.00"),
            ("deposit", "completed", "150.00"),
        ]
        assert _call(f"{api}/balance", token)["balances"][0]["amount"] == "110.00"
        system.stop()
        system.check_setup()
    except (AssertionError, OSError) as problem:
        system.fail(f"{type(problem).__name__}: {problem}")
    finally:
        system.stop()
