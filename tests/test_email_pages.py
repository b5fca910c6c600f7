"""The links in emails (issue 13, item 5): each one opens a page of this server that works.

Verification, password reset and capsule invitations: the link in the email sent through
the public API points at the server that handled the request (not at port 8000), the page
answers 200 in English or Arabic, and its form does what it says, CSRF token and all.
"""

from __future__ import annotations

import re
from collections.abc import Callable, Iterator
from contextlib import AbstractContextManager
from datetime import timedelta
from html import unescape
from typing import Any
from urllib.parse import parse_qs, urlsplit

import pytest
from django.core import mail
from django.test import Client
from django.utils import timezone

from tessera.accounts.models import User
from tessera.core.links import current_request, site_url
from tessera.notifications.sms import MemorySmsProvider
from tests.fixtures import ApiClient

pytestmark = pytest.mark.django_db

OnCommit = Callable[..., AbstractContextManager[Any]]
LINK = re.compile(r"https?://\S+")


@pytest.fixture(autouse=True)
def _empty_outboxes() -> Iterator[None]:
    mail.outbox.clear()
    MemorySmsProvider.outbox.clear()
    yield
    MemorySmsProvider.outbox.clear()


def email_link(to: str) -> str:
    [message] = [m for m in mail.outbox if to in m.to][-1:]
    assert isinstance(message.body, str)
    found = LINK.search(message.body)
    assert found is not None, message.body
    return found.group(0)


def local_path(link: str, base: str = "http://testserver") -> str:
    """The path and query of `link`, after checking it points at `base`."""
    assert link.startswith(base + "/"), link
    parts = urlsplit(link)
    return f"{parts.path}?{parts.query}" if parts.query else parts.path


def csrf_token(page: Any) -> str:
    found = re.search(r'name="csrfmiddlewaretoken" value="([^"]+)"', page.content.decode())
    assert found is not None, "the form carries no CSRF token"
    return found.group(1)


def submit(browser: Client, path: str, fields: dict[str, str], run: OnCommit) -> Any:
    """Open `path` as a browser does, then post its form with `fields`."""
    page = browser.get(path)
    assert page.status_code == 200
    with run(execute=True):
        return browser.post(
            urlsplit(path).path, {"csrfmiddlewaretoken": csrf_token(page), **fields}
        )


def text(response: Any) -> str:
    return unescape(response.content.decode())


def test_the_verification_link_opens_a_page_that_verifies_the_address(
    api: ApiClient, django_capture_on_commit_callbacks: OnCommit
) -> None:
    with django_capture_on_commit_callbacks(execute=True):
        registered = api.post(
            "/api/auth/register",
            {"email": "lin@example.com", "password": "a long enough pass 7", "name": "Lin"},
        )
    assert registered.status_code == 202
    path = local_path(email_link("lin@example.com"))
    assert path.startswith("/verify-email?email=lin%40example.com&code=")
    code = parse_qs(urlsplit(path).query)["code"][0]

    browser = Client(enforce_csrf_checks=True)
    page = browser.get(path)
    assert page.status_code == 200
    assert page["Cache-Control"] == "no-store"
    assert f'value="{code}"' in page.content.decode()
    assert User.objects.get(email="lin@example.com").email_verified_at is None  # GET: nothing

    done = submit(
        browser,
        path,
        {"email": "lin@example.com", "code": code},
        django_capture_on_commit_callbacks,
    )

    assert done.status_code == 200
    assert "Your email address lin@example.com is verified." in text(done)
    assert User.objects.get(email="lin@example.com").email_verified_at is not None
    again = submit(
        browser,
        path,
        {"email": "lin@example.com", "code": code},
        django_capture_on_commit_callbacks,
    )
    assert again.status_code == 400
    assert "wrong, was already used or has expired" in text(again)


def test_a_form_posted_without_its_csrf_token_is_refused(user: Any) -> None:
    browser = Client(enforce_csrf_checks=True)

    refused = browser.post("/verify-email", {"email": user.email, "code": "123456"})

    assert refused.status_code == 403


def test_the_reset_link_opens_a_page_that_sets_the_new_password(
    api: ApiClient, user: Any, django_capture_on_commit_callbacks: OnCommit
) -> None:
    with django_capture_on_commit_callbacks(execute=True):
        assert api.post("/api/auth/password/forgot", {"email": user.email}).status_code in {
            200,
            202,
        }
    path = local_path(email_link(user.email))
    assert path.startswith("/reset-password?token=")
    browser = Client(enforce_csrf_checks=True)
    token = parse_qs(urlsplit(path).query)["token"][0]

    mismatch = submit(
        browser,
        path,
        {"token": token, "password": "one new pass phrase", "password2": "another one"},
        django_capture_on_commit_callbacks,
    )
    assert mismatch.status_code == 400
    assert "The two passwords are not the same." in text(mismatch)
    weak = submit(
        browser,
        path,
        {"token": token, "password": "12345678", "password2": "12345678"},
        django_capture_on_commit_callbacks,
    )
    assert weak.status_code == 400
    assert "too common" in text(weak)

    done = submit(
        browser,
        path,
        {
            "token": token,
            "password": "a brand new pass phrase",
            "password2": "a brand new pass phrase",
        },
        django_capture_on_commit_callbacks,
    )

    assert done.status_code == 200
    assert "Your password was changed" in text(done)
    logged_in = api.post(
        "/api/auth/login", {"email": user.email, "password": "a brand new pass phrase"}
    )
    assert logged_in.status_code == 200
    spent = submit(
        browser,
        path,
        {"token": token, "password": "yet another pass", "password2": "yet another pass"},
        django_capture_on_commit_callbacks,
    )
    assert spent.status_code == 400
    assert "The reset link is not valid" in text(spent)
    assert 'name="email"' in spent.content.decode()  # offers to send a new link


def test_the_reset_page_without_a_token_sends_a_reset_link(
    user: Any, django_capture_on_commit_callbacks: OnCommit
) -> None:
    browser = Client(enforce_csrf_checks=True)

    sent = submit(
        browser, "/reset-password", {"email": user.email}, django_capture_on_commit_callbacks
    )

    assert sent.status_code == 200
    assert f"If an account uses {user.email}" in text(sent)
    assert local_path(email_link(user.email)).startswith("/reset-password?token=")


def test_an_email_invitation_leads_to_a_sign_up_that_receives_the_capsule(
    user_api: ApiClient, api: ApiClient, django_capture_on_commit_callbacks: OnCommit
) -> None:
    created = user_api.post(
        "/api/capsules", {"title": "For you", "receiverEmail": "new@example.org"}
    )
    assert created.status_code == 201, created.json()
    capsule_id = created.json()["data"]["id"]
    unlock = (timezone.now() + timedelta(days=4)).isoformat().replace("+00:00", "Z")
    with django_capture_on_commit_callbacks(execute=True):
        sealed = user_api.post(f"/api/capsules/{capsule_id}/seal", {"scheduledUnlockAt": unlock})
    assert sealed.status_code == 200
    path = local_path(email_link("new@example.org"))
    assert path == "/invitation?email=new%40example.org"
    browser = Client(enforce_csrf_checks=True)
    landing = browser.get(path)
    assert landing.status_code == 200
    assert "A time capsule is waiting for you" in text(landing)

    signed_up = submit(
        browser,
        path,
        {"email": "new@example.org", "name": "Nia", "password": "a long enough pass 7"},
        django_capture_on_commit_callbacks,
    )
    assert signed_up.status_code == 200
    assert "we sent a code to new@example.org" in text(signed_up)

    # The verification email's link, then signing in: the capsule is in the inbox.
    verify_path = local_path(email_link("new@example.org"))
    code = parse_qs(urlsplit(verify_path).query)["code"][0]
    verified = submit(
        browser,
        verify_path,
        {"email": "new@example.org", "code": code},
        django_capture_on_commit_callbacks,
    )
    assert verified.status_code == 200
    token = api.post(
        "/api/auth/login", {"email": "new@example.org", "password": "a long enough pass 7"}
    ).json()["data"]["accessToken"]
    inbox = ApiClient(token=token).get("/api/capsules?box=inbox").json()["data"]
    assert [item["id"] for item in inbox["items"]] == [capsule_id]


def test_an_sms_invitation_leads_to_a_page_saying_how_to_sign_up_by_phone(
    user_api: ApiClient, django_capture_on_commit_callbacks: OnCommit
) -> None:
    number = "+27821234567"
    created = user_api.post("/api/capsules", {"title": "For you", "receiverPhone": number})
    unlock = (timezone.now() + timedelta(days=4)).isoformat().replace("+00:00", "Z")
    with django_capture_on_commit_callbacks(execute=True):
        user_api.post(
            f"/api/capsules/{created.json()['data']['id']}/seal", {"scheduledUnlockAt": unlock}
        )
    [message] = [m for m in MemorySmsProvider.outbox if m.to == number]
    found = LINK.search(message.body)
    assert found is not None

    landing = Client().get(local_path(found.group(0)))

    assert landing.status_code == 200
    assert f"with the phone number {number}" in text(landing)
    assert 'name="password"' not in landing.content.decode()


def test_the_pages_speak_arabic(user: Any) -> None:
    page = Client().get("/reset-password?lang=ar")

    assert page.status_code == 200
    assert 'dir="rtl"' in page.content.decode()
    assert "اختر كلمة مرور جديدة" in text(page)
    english = Client().get("/verify-email", HTTP_ACCEPT_LANGUAGE="en")
    assert 'dir="ltr"' in english.content.decode()


def test_an_arabic_speakers_link_carries_their_language(
    api: ApiClient, django_capture_on_commit_callbacks: OnCommit
) -> None:
    with django_capture_on_commit_callbacks(execute=True):
        api.post(
            "/api/auth/register?lang=ar",
            {"email": "amal@example.com", "password": "a long enough pass 7", "name": "Amal"},
        )

    path = local_path(email_link("amal@example.com"))

    assert path.endswith("&lang=ar")
    assert 'dir="rtl"' in Client().get(path).content.decode()


def test_the_confirm_email_change_link_shows_the_code() -> None:
    page = Client().get("/confirm-email-change?email=new%40example.org&code=123456")

    assert page.status_code == 200
    assert "123456" in text(page)


def test_the_link_base(settings: Any, rf: Any) -> None:
    settings.AUTH_FRONTEND_URL = ""
    settings.TESSERA_SERVER_URL = ""
    assert site_url("/x") == "http://127.0.0.1:8000/x"
    request = rf.get("/", HTTP_HOST="localhost:18234")
    with current_request(request):
        assert site_url("/x", {"a": "1", "b": None}) == "http://localhost:18234/x?a=1"
    # `make run` says where it listens; a configured front end wins over everything.
    settings.TESSERA_SERVER_URL = "http://127.0.0.1:9000"
    with current_request(request):
        assert site_url("/x") == "http://127.0.0.1:9000/x"
    settings.AUTH_FRONTEND_URL = "https://app.example.org/"
    assert site_url("/x") == "https://app.example.org/x"


def test_the_deployment_check_asks_for_the_link_base(settings: Any) -> None:
    from django.core.checks import run_checks

    settings.AUTH_FRONTEND_URL = ""
    settings.TESSERA_SERVER_URL = ""
    assert "tessera.W001" in {m.id for m in run_checks(include_deployment_checks=True)}
    settings.AUTH_FRONTEND_URL = "https://app.example.org"
    assert "tessera.W001" not in {m.id for m in run_checks(include_deployment_checks=True)}


# The live server needs committed rows. Serialized rollback loads the data migrations' rows
# (the email templates) before the test, whatever a transactional test before it flushed,
# and puts them back after the flush that ends this one.
@pytest.mark.django_db(transaction=True, serialized_rollback=True)
def test_the_link_resolves_on_a_live_server(live_server: Any) -> None:
    """Over real HTTP: the server puts its own address in the link, and the page is there."""
    import json
    import urllib.request

    body = json.dumps(
        {"email": "live@example.com", "password": "a long enough pass 7", "name": "Liv"}
    ).encode()
    request = urllib.request.Request(
        f"{live_server.url}/api/auth/register",
        data=body,
        headers={"Content-Type": "application/json"},
    )
    with urllib.request.urlopen(request, timeout=30) as reply:
        assert reply.status == 202

    link = email_link("live@example.com")
    assert link.startswith(f"{live_server.url}/verify-email?")
    with urllib.request.urlopen(link, timeout=30) as page:
        assert page.status == 200
        assert "Verify your email address" in page.read().decode()
