"""Failed password logins lock the (account, address) pair and slow the account down for
clients it does not know; they never lock the owner out (services/lockout.py)."""

from __future__ import annotations

from typing import Any

import pytest

from tessera.accounts.models import AuthSession
from tessera.accounts.services import lockout
from tessera.audit.models import AuditLog
from tests.fixtures import ApiClient

pytestmark = pytest.mark.django_db

PASSWORD = "correct horse battery"
OWNER_HOME = "10.0.0.7"
ATTACKER = "10.6.6.6"


def login(client: Any, *, ip: str, email: str = "ada@example.com", password: str = PASSWORD) -> Any:
    return client.post("/api/auth/login", {"email": email, "password": password}, REMOTE_ADDR=ip)


@pytest.fixture(autouse=True)
def _request_limits_off(settings: Any) -> None:
    # The route's own limit (5 logins per 15 minutes per address) would answer first; with
    # request limits off, what remains is the account protection, which never switches off.
    settings.REQUEST_RATE_LIMITS_ENABLED = False


class Clock:
    """The delay's clock, frozen: a loaded machine taking seconds between two requests must
    not let a delay run out unseen. Time moves only by `advance`."""

    def __init__(self, monkeypatch: Any) -> None:
        self.now = lockout._clock()
        monkeypatch.setattr(lockout, "_clock", lambda: self.now)

    def advance(self, seconds: float) -> None:
        self.now += seconds


@pytest.fixture(autouse=True)
def clock(monkeypatch: Any) -> Clock:
    return Clock(monkeypatch)


def fail_from_many_addresses(count: int, *, email: str = "ada@example.com") -> None:
    for index in range(count):
        response = login(ApiClient(), ip=f"10.20.0.{index}", email=email, password="wrong")
        assert response.status_code == 401, response.json()


def test_the_attackers_address_is_locked_and_the_owner_signs_in_from_a_known_address(
    user: Any,
) -> None:
    assert login(ApiClient(), ip=OWNER_HOME).status_code == 200  # the owner's usual address
    attacker = ApiClient()
    for _ in range(5):
        assert login(attacker, ip=ATTACKER, password="wrong").status_code == 401

    locked = login(attacker, ip=ATTACKER)  # even with the right password

    assert locked.status_code == 429
    assert locked.json()["error"]["code"] == "too_many_failed_logins"
    assert 1 <= int(locked["Retry-After"]) <= 15 * 60
    owner = login(ApiClient(), ip=OWNER_HOME)
    assert owner.status_code == 200
    assert owner.json()["data"]["user"]["email"] == "ada@example.com"
    lock_entry = AuditLog.objects.get(action="auth.lockout")
    assert lock_entry.target_id == str(user.pk)
    assert lock_entry.changes["seconds"] == 900
    assert lock_entry.changes["ip"] == ATTACKER


def test_failures_from_everywhere_slow_unknown_clients_down_but_do_not_lock_the_owner(
    user: Any, clock: Clock
) -> None:
    fail_from_many_addresses(5)

    stranger = login(ApiClient(), ip="10.9.9.9")  # the right password, a new address

    assert stranger.status_code == 429
    assert stranger.json()["error"]["code"] == "login_throttled"
    assert stranger["Retry-After"] == "1"
    assert not AuthSession.objects.exists()
    assert AuditLog.objects.filter(action="auth.login.slowed", target_id=str(user.pk)).count() == 1

    clock.advance(1.5)
    assert login(ApiClient(), ip="10.9.9.9").status_code == 200


def test_the_delay_doubles_with_each_failure_up_to_its_cap(
    user: Any, clock: Clock, settings: Any
) -> None:
    settings.AUTH_LOGIN_DELAY_MAX_SECONDS = 16
    fail_from_many_addresses(5)
    waits = []
    for index in range(6):
        refused = login(ApiClient(), ip=f"10.30.0.{index}", password="wrong")
        assert refused.status_code == 429
        waits.append(int(refused["Retry-After"]))
        clock.advance(waits[-1])
        assert login(ApiClient(), ip=f"10.31.0.{index}", password="wrong").status_code == 401

    assert waits == [1, 2, 4, 8, 16, 16]


def test_one_attempt_at_a_time_goes_through_once_the_delay_is_over(user: Any, clock: Clock) -> None:
    fail_from_many_addresses(5)
    clock.advance(2)

    first = lockout.lockout_check(email="ada@example.com", ip="10.40.0.1")
    second = lockout.lockout_check(email="ada@example.com", ip="10.40.0.2")

    assert not first.refused
    assert second.throttled  # until the first attempt's outcome is counted
    lockout.lockout_record_failure(email="ada@example.com", ip="10.40.0.1")
    clock.advance(2)
    assert not lockout.lockout_check(email="ada@example.com", ip="10.40.0.2").refused


def test_a_device_cookie_from_an_earlier_login_lets_the_owner_in_from_a_new_address(
    user: Any,
) -> None:
    phone = ApiClient()
    first = login(phone, ip="10.0.0.1")
    cookie = first.cookies[lockout.DEVICE_COOKIE]
    assert cookie["httponly"]
    assert cookie["samesite"] == "Strict"
    assert cookie["path"] == "/api/auth/"
    fail_from_many_addresses(5)

    stranger = login(ApiClient(), ip="172.16.5.6")
    forged = ApiClient()
    forged.cookies[lockout.DEVICE_COOKIE] = cookie.value[:-2] + "xx"
    forged_reply = login(forged, ip="172.16.5.7")
    travelling = login(phone, ip="172.16.5.5")  # same device, an address never seen

    assert stranger.status_code == 429
    assert stranger.json()["error"]["code"] == "login_throttled"
    assert forged_reply.status_code == 429
    assert travelling.status_code == 200


def test_a_device_cookie_names_only_the_accounts_that_signed_in_on_it(
    user: Any, other_user: Any
) -> None:
    shared = ApiClient()
    assert login(shared, ip="10.0.0.1").status_code == 200
    fail_from_many_addresses(5, email="grace@example.com")

    reply = login(shared, ip="10.0.0.2", email="grace@example.com", password="another long pass")

    assert reply.status_code == 429  # the cookie knows ada, not grace
    assert reply.json()["error"]["code"] == "login_throttled"


def test_failures_from_one_address_lock_it_out_of_accounts_it_does_not_know(
    user: Any, other_user: Any
) -> None:
    attacker = ApiClient()
    for index in range(5):
        assert login(attacker, ip=ATTACKER, email=f"someone{index}@example.com").status_code == 401

    refused = login(attacker, ip=ATTACKER)  # ada's right password, the stuffing address

    assert refused.status_code == 429
    assert refused.json()["error"]["code"] == "too_many_failed_logins"
    assert login(ApiClient(), ip="10.1.1.1").status_code == 200


def test_an_address_the_account_knows_is_not_locked_out_by_failures_on_other_accounts(
    user: Any,
) -> None:
    office = ApiClient()
    assert login(office, ip=OWNER_HOME).status_code == 200
    for index in range(5):
        colleague = ApiClient()
        email = f"colleague{index}@example.com"
        assert login(colleague, ip=OWNER_HOME, email=email, password="typo").status_code == 401

    assert login(ApiClient(), ip=OWNER_HOME).status_code == 200
    assert login(ApiClient(), ip=OWNER_HOME, email="new@example.com").status_code == 429


def test_the_delay_says_nothing_about_which_emails_have_accounts(user: Any) -> None:
    fail_from_many_addresses(5)
    fail_from_many_addresses(5, email="nobody@example.com")

    real = login(ApiClient(), ip="10.50.0.1", password="wrong")
    ghost = login(ApiClient(), ip="10.50.0.2", email="nobody@example.com", password="wrong")

    assert real.status_code == ghost.status_code == 429
    for key in ("code", "message"):
        assert real.json()["error"][key] == ghost.json()["error"][key]
    assert real["Retry-After"] == ghost["Retry-After"]


def test_a_successful_login_clears_the_accounts_failures(user: Any) -> None:
    fail_from_many_addresses(4)
    assert login(ApiClient(), ip="10.60.0.1").status_code == 200

    fail_from_many_addresses(4)

    assert login(ApiClient(), ip="10.60.0.2").status_code == 200  # 4 since the last success


@pytest.mark.parametrize("switch", ["REQUEST_RATE_LIMITS_ENABLED", "RATE_LIMIT_ENABLED"])
def test_request_limits_off_under_either_name_leave_account_protections_on(
    user: Any, settings: Any, switch: str, run_on_commit: Any
) -> None:
    settings.REQUEST_RATE_LIMITS_ENABLED = True
    setattr(settings, switch, False)
    client = ApiClient()
    # The route's 5-per-15-minutes limit is off: a sixth login from one address passes…
    for _ in range(6):
        assert login(client, ip="10.70.0.1").status_code == 200
    # …the pair lock is not…
    for _ in range(5):
        assert login(client, ip="10.70.0.1", password="wrong").status_code == 401
    assert login(client, ip="10.70.0.1").json()["error"]["code"] == "too_many_failed_logins"
    # …and neither are the per-number code limits.
    with run_on_commit():
        first = client.post("/api/auth/signup", {"phoneNumber": "+27821234567"})
        again = client.post("/api/auth/signup", {"phoneNumber": "+27821234567"})
    assert first.status_code == 200
    assert again.status_code == 429
    assert again.json()["error"]["code"] == "otp_resend_too_soon"
